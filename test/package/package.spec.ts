import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive, runNode } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')
const NPM_CLI = join(process.execPath, '../../lib/node_modules/npm/bin/npm-cli.js')

/** Runs npm with this Node.js, bounded in time; resolves what it printed on stdout and stderr. */
async function npmRun(args: string[], cwd: string, timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  const npmArgs = existsSync(NPM_CLI) ? [NPM_CLI, ...args] : args
  const file = existsSync(NPM_CLI) ? process.execPath : 'npm'
  return run(file, npmArgs, { cwd, timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 })
}

async function npm(args: string[], cwd: string, timeout = 120_000): Promise<string> {
  return (await npmRun(args, cwd, timeout)).stdout
}

const CJS_CONSUMER = `
import sharedmem = require('sharedmem')
async function main(): Promise<number> {
  const peer: sharedmem.SharedMemPeer = await sharedmem.createPeer({ listen: [0] })
  await peer.save({ collection: 'c', key: 'k', variable: { a: 1 }, options: { expiresIn: 1000 } })
  const n: number = await peer.increment({ counter: 'n' })
  await peer.stop()
  return n
}
void main()
`
const ESM_CONSUMER = `
import { connect, createPeer, type PeerOptions, SharedMemError, type Json } from 'sharedmem'
import { Faults } from 'sharedmem/testing'
const options: PeerOptions = { swarm: 'x', bootstrap: [], faults: new Faults() }
const peer = await createPeer(options)
const value: Json = peer.getSync({ collection: 'c', key: 'k' })
const typed: { n: number } | null = await peer.get<{ n: number }>({ collection: 'c', key: 'k' })
console.log(typed)
const remote = connect('http://127.0.0.1:3000/sharedmem')
console.log(value, typeof remote.get, SharedMemError.name)
await peer.stop()
`
const WRONG_CONSUMER = `
import sharedmem = require('sharedmem')
void sharedmem.createPeer({ listen: 'not a list' })
`

/** A script that uses the installed package, saves and reads back, and prints what it saw. */
const usage = (load: string): string => `
${load}
const peer = await createPeer()
await peer.save({ collection: 'c', key: 'k', variable: { ok: true } })
console.log(JSON.stringify({ value: peer.getSync({ collection: 'c', key: 'k' }), n: await peer.increment({ counter: 'n' }) }))
await peer.stop()
`

describe('the packed package, installed into a fresh project', () => {
  let dir: string
  let tarball: string
  let installLog: { stdout: string; stderr: string }

  beforeAll(async () => {
    // The test command builds dist/ first; pack it as npm publishes it.
    expect(existsSync(join(ROOT, 'dist/index.js'))).toBe(true)
    dir = await mkdtemp(join(tmpdir(), 'sharedmem-consumer-'))
    await npm(['pack', '--ignore-scripts', '--pack-destination', dir], ROOT)
    const packed = (await readdir(dir)).find((f) => f.endsWith('.tgz'))
    if (packed === undefined) throw new Error(`npm pack left no tarball in ${dir}`)
    tarball = packed
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
    // --engine-strict: a dependency that wants a newer Node.js than ours fails the install.
    const args = ['install', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`]
    installLog = await npmRun(args, dir, 240_000)
  }, 300_000)

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('installs on this Node.js with --engine-strict, without a warning', () => {
    // None at all: no dependency has an install script for npm 11 to list (#30 item 7).
    const warnings = `${installLog.stdout}\n${installLog.stderr}`.split('\n').filter((line) => /^npm warn/i.test(line))
    expect(warnings).toEqual([])
    expect(installLog.stderr).not.toContain('EBADENGINE')
  })

  it('has types that resolve for CommonJS and ESM consumers (arethetypeswrong)', async () => {
    // require() of this ESM package is Node's require(esm), which every Node.js the package
    // supports (engines: >=20.19) has: the CommonJS tests here run it.
    const attw = join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js')
    const out = await runNode([attw, join(dir, tarball), '--ignore-rules', 'cjs-resolves-to-esm', '--format', 'ascii'])
    expect(out.code, out.stdout + out.stderr).toBe(0)
  })

  it('starts `sharedmem peer` on ephemeral ports, serves connect(), and stops on SIGTERM', async () => {
    const bin = join(dir, 'node_modules/sharedmem/bin/sharedmem.js')
    const child = spawn(process.execPath, [bin, 'peer', '--listen', '0', '--http', '0'], { cwd: dir })
    const pid = child.pid
    if (pid === undefined) throw new Error('sharedmem peer did not start')
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      await waitFor(
        () => /^ready$/m.test(out),
        () => `"ready" from sharedmem peer: ${out}`
      )
      const url = /^http (\S+)$/m.exec(out)?.[1]
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/)
      const script = `
        const { connect } = require('sharedmem')
        ;(async () => {
          const mem = connect(${JSON.stringify(url)})
          await mem.save({ collection: 'c', key: 'k', variable: 'via http' })
          console.log(JSON.stringify(await mem.get({ collection: 'c', key: 'k' })))
        })()`
      const client = await runNode(['--input-type=commonjs', '-e', script], { cwd: dir })
      expect(client.code, client.stderr).toBe(0)
      expect(JSON.parse(client.stdout)).toBe('via http')
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGTERM')
    }
    expect(await exited).toBe(0)
  })

  it('works with ESM import', async () => {
    const script = usage("import { createPeer } from 'sharedmem'")
    const out = await runNode(['--input-type=module', '-e', script], { cwd: dir })
    expect(out.code, out.stderr).toBe(0)
    expect(JSON.parse(out.stdout)).toEqual({ value: { ok: true }, n: 1 })
  })

  it('works with CommonJS require()', async () => {
    const script = `(async () => { ${usage("const { createPeer } = require('sharedmem')")} })()`
    const out = await runNode(['--input-type=commonjs', '-e', script], { cwd: dir })
    expect(out.code, out.stderr).toBe(0)
    expect(out.stderr).not.toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED|ERR_REQUIRE_ESM/)
    expect(JSON.parse(out.stdout)).toEqual({ value: { ok: true }, n: 1 })
  })

  it('serves test-only helpers at sharedmem/testing, to import() and require(), and not at the main entry', async () => {
    const script = (load: string) => `
      ${load}
      const faults = new Faults()
      faults.set({ dropGossip: 0.5 })
      console.log(JSON.stringify({ settings: faults.get(), main: 'Faults' in main }))`
    const esm = await runNode(
      [
        '--input-type=module',
        '-e',
        script("import { Faults } from 'sharedmem/testing'; import * as main from 'sharedmem'")
      ],
      { cwd: dir }
    )
    const cjs = await runNode(
      [
        '--input-type=commonjs',
        '-e',
        script("const { Faults } = require('sharedmem/testing'); const main = require('sharedmem')")
      ],
      { cwd: dir }
    )
    for (const out of [esm, cjs]) {
      expect(out.code, out.stderr).toBe(0)
      expect(JSON.parse(out.stdout)).toEqual({ settings: { dropGossip: 0.5, block: [] }, main: false })
    }
  })

  it('type-checks a CommonJS and an ESM consumer with tsc, and catches a wrong option', async () => {
    await writeFile(join(dir, 'use.cts'), CJS_CONSUMER)
    await writeFile(join(dir, 'use.mts'), ESM_CONSUMER)
    await writeFile(join(dir, 'wrong.cts'), WRONG_CONSUMER)
    const flags = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--strict']
    const good = await runNode([TSC, ...flags, '--noEmit', '--skipLibCheck', 'use.cts', 'use.mts'], { cwd: dir })
    expect(good.code, good.stdout).toBe(0)
    const wrong = await runNode([TSC, ...flags, '--noEmit', '--skipLibCheck', 'wrong.cts'], { cwd: dir })
    expect(wrong.code).not.toBe(0)
    expect(wrong.stdout).toContain('TS2322')
  })

  it('runs `npx sharedmem --help`', async () => {
    const help = await npm(['exec', '--offline', '--', 'sharedmem', '--help'], dir)
    expect(help).toMatch(/Usage: sharedmem/)
    expect(help).toMatch(/\bpeer\b/)
    expect(help).toMatch(/\bserver\b/)
  })
})
