/**
 * Every option of createPeer has a flag, an environment variable and a config-file key, all from
 * one table (src/cli/settings.ts): an option added to the contract without a row fails here (and
 * does not compile), and every row reaches createPeer by each of the three ways.
 */

import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { applyConfigFile } from '../../src/cli/config-file.js'
import { main } from '../../src/cli/index.js'
import {
  addSettings,
  envName,
  PEER_SETTINGS,
  peerOptionsOf,
  peerSettingRows,
  type Setting
} from '../../src/cli/settings.js'
import { killAll, startPeerProcess } from '../fixtures/processes.js'

afterAll(killAll)

/** The option names declared in the contract's PeerOptions, read from its source. */
function declaredOptions(): string[] {
  const source = readFileSync(new URL('../../src/contract/peer.ts', import.meta.url), 'utf8')
  const body = /export interface PeerOptions \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? ''
  return [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1])
}

/** The value a row's text '7' (or its switch) stands for. */
function expected(row: Setting): unknown {
  if (!row.flags.includes('<')) return true
  return row.parse === undefined ? '7' : row.parse('7', undefined)
}

/** Parses `argv` as `sharedmem peer` would, config file included, into createPeer options. */
function parsePeer(argv: string[]): ReturnType<typeof peerOptionsOf> {
  const cmd = addSettings(new Command('peer')).exitOverride()
  cmd.hook('preAction', (c) => applyConfigFile(c)).action(() => {})
  cmd.parse(argv, { from: 'user' })
  return peerOptionsOf(cmd.opts())
}

describe('the settings table', () => {
  it('has a row for every option of the contract, and only those', () => {
    const declared = declaredOptions()
    expect(declared.length).toBeGreaterThan(30)
    expect(Object.keys(PEER_SETTINGS).sort()).toEqual(declared.sort())
    // An option without a flag says why.
    for (const row of Object.values(PEER_SETTINGS)) {
      if (!('flags' in row)) expect(row.embeddedOnly.length).toBeGreaterThan(10)
    }
  })

  it('gives every flag of a row its own long name and variable, listed in --help', async () => {
    let help = ''
    const io = { out: (l: string) => (help += `${l}\n`), err: () => {} }
    expect(await main(['node', 'sharedmem', 'peer', '--help'], io)).toBe(0)
    const names = new Set<string>()
    for (const [, row] of peerSettingRows()) {
      const opt = new Option(row.flags)
      names.add(envName(opt))
      expect(help).toContain(opt.long)
      expect(help).toContain(envName(opt))
    }
    expect(names.size).toBe(peerSettingRows().length)
  })

  it('takes every row from a flag', () => {
    for (const [key, row] of peerSettingRows()) {
      const opt = new Option(row.flags)
      const argv = row.flags.includes('<') ? [opt.long as string, '7'] : [opt.long as string]
      expect(parsePeer(argv)[key], row.flags).toEqual(expected(row))
    }
  })

  it('takes every row from its SHAREDMEM_ variable', () => {
    for (const [key, row] of peerSettingRows()) {
      const name = envName(new Option(row.flags))
      process.env[name] = row.flags.includes('<') ? '7' : 'true'
      try {
        expect(parsePeer([])[key], name).toEqual(expected(row))
      } finally {
        delete process.env[name]
      }
    }
  })

  it('takes every row from the config file, by its flag or its createPeer name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-settings-'))
    try {
      const file = join(dir, 'sharedmem.json')
      for (const [key, row] of peerSettingRows()) {
        const flag = (new Option(row.flags).long as string).replace(/^--/, '')
        const value = row.flags.includes('<') ? (row.parse?.name === 'collect' ? ['7'] : '7') : true
        for (const name of [flag, key]) {
          await writeFile(file, JSON.stringify({ [name]: value }))
          expect(parsePeer(['--config', file])[key], `"${name}" in the config file`).toEqual(expected(row))
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('reaches a running peer: --max-value-bytes refuses a larger value', async () => {
    const p = await startPeerProcess(['--max-value-bytes', '64', '--rendezvous', 'off'])
    await p.client.save({ collection: 'c', key: 'small', variable: 'x' })
    await expect(p.client.save({ collection: 'c', key: 'big', variable: 'x'.repeat(100) })).rejects.toMatchObject({
      code: 'ERR_VALUE_TOO_LARGE'
    })
    expect(await p.stop()).toBe(0)
  })
})
