import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { killAll, startPeerProcess } from '../fixtures/processes.js'

afterAll(killAll)

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(['node', 'sharedmem', ...args], {
    out: (l) => {
      out += `${l}\n`
    },
    err: (l) => {
      err += `${l}\n`
    }
  })
  return { code, out, err }
}

describe('sharedmem CLI', () => {
  it('documents every flag in --help', async () => {
    const { code, out } = await run('peer', '--help')
    expect(code).toBe(0)
    for (const flag of ['--listen', '--bootstrap', '--identity', '--swarm', '--http', '--http-host']) {
      expect(out).toContain(flag)
    }
    expect((await run('server', '--help')).out).toContain('--port')
    expect((await run('--help')).out).toMatch(/peer[\s\S]*server/)
  })

  it('fails with a clear message on bad input', async () => {
    const unknown = await run('peer', '--no-such-flag')
    expect(unknown.code).not.toBe(0)
    expect(unknown.err).toContain('unknown option')
    const badAddress = await run('peer', '--listen', 'nowhere')
    expect(badAddress.code).toBe(1)
    expect(badAddress.err).toContain('ERR_INVALID_ADDRESS')
    const badPort = await run('server', '-p', 'http')
    expect(badPort.code).not.toBe(0)
    expect(badPort.err).toContain('port')
  })

  it('keeps the peer id across restarts with --identity, in a 0600 file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-'))
    try {
      const file = join(dir, 'nested', 'identity.key')
      const first = await startPeerProcess(['--identity', file])
      expect(await first.stop()).toBe(0)
      if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600)
      const second = await startPeerProcess(['--identity', file])
      expect(second.peerId).toBe(first.peerId)
      expect(second.output()).not.toContain('note: no --identity')
      expect(await second.stop()).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('status line', () => {
  it('tells peers, entries, last sync and sync state', async () => {
    const { statusLine } = await import('../../src/cli/peer.js')
    const base = { peers: ['a', 'b'], entries: 10, counters: 1, bootstrap: { waiting: false, addresses: [] } }
    const status = (sync: object) => ({ ...base, sync }) as unknown as Parameters<typeof statusLine>[0]
    expect(statusLine(status({ lastSyncAt: 1000, inSync: true }), 4000)).toBe(
      'status: 2 peers, 10 entries, 1 counters, last sync 3 s ago, in sync'
    )
    expect(statusLine(status({ lastSyncAt: 0, inSync: false }))).toContain('never synced, syncing')
  })

  it('is logged by a running peer at --status-interval', async () => {
    const p = await startPeerProcess(['--status-interval', '0.2'])
    const { waitFor } = await import('../fixtures/wait.js')
    await waitFor(
      () => /^status: 0 peers, 0 entries, 0 counters, never synced, in sync$/m.test(p.output()),
      'a status line'
    )
    expect(await p.stop()).toBe(0)
  })
})

describe('security flags', () => {
  it('--swarm-key and --token wire through to real processes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-sec-'))
    try {
      const key = join(dir, 'swarm.key')
      expect((await run('keygen', key)).code).toBe(0)
      const a = await startPeerProcess(['--swarm-key', key, '--token', 't0ken'])
      const b = await startPeerProcess(['--swarm-key', key, '--token', 't0ken', '--bootstrap', a.address])
      const auth = { authorization: 'Bearer t0ken' }
      expect((await fetch(`${a.url}/status`)).status).toBe(401)
      const { connect } = await import('../../src/index.js')
      const clientA = connect(a.url, { headers: auth })
      const clientB = connect(b.url, { headers: auth })
      await clientA.save({ collection: 'c', key: 'k', variable: 'private' })
      const { waitFor } = await import('../fixtures/wait.js')
      await waitFor(async () => (await clientB.get({ collection: 'c', key: 'k' })) === 'private', 'replication')
      expect(a.output()).not.toContain('WARNING')
      expect(await a.stop()).toBe(0)
      expect(await b.stop()).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('logs the first refusal of each reason', async () => {
    const p = await startPeerProcess()
    const { hostileNode, TOPIC } = await import('../fixtures/hostile.js')
    const { multiaddr } = await import('@multiformats/multiaddr')
    const { waitFor } = await import('../fixtures/wait.js')
    const evil = await hostileNode()
    try {
      evil.services.pubsub.subscribe(TOPIC)
      await evil.dial(multiaddr(p.address))
      await waitFor(() => evil.services.pubsub.getSubscribers(TOPIC).length > 0, 'the hostile peer to subscribe')
      for (let i = 0; i < 3; i++) await evil.services.pubsub.publish(TOPIC, new Uint8Array([0xc1, i]))
      await waitFor(async () => (await p.client.status()).rejections['gossip:decode'] === 3, 'three refusals')
      expect(p.output().match(/rejected gossip input \(decode\)/g)).toHaveLength(1)
    } finally {
      await evil.stop()
      await p.stop()
    }
  })
})

describe('sharedmem status', () => {
  it("prints a running peer's id and entry count", async () => {
    const p = await startPeerProcess()
    await p.client.save({ collection: 'c', key: 'k1', variable: 1 })
    await p.client.save({ collection: 'c', key: 'k2', variable: 2 })
    const { code, out } = await run('status', '--http', p.url)
    expect(code).toBe(0)
    expect(out).toMatch(new RegExp(`^peer id\\s+${p.peerId}$`, 'm'))
    expect(out).toMatch(/^entries\s+2 in 1 collections, 0 tombstones$/m)
    const json = await run('status', '--http', p.url, '--json')
    expect(JSON.parse(json.out)).toMatchObject({ peerId: p.peerId, entries: 2 })
    expect(await p.stop()).toBe(0)
  })

  it('fails clearly when no peer answers', async () => {
    const { code, err } = await run('status', '--http', 'http://127.0.0.1:1/sharedmem')
    expect(code).toBe(1)
    expect(err).toContain('ERR_REMOTE')
  })
})

describe('settings from a config file and the environment', () => {
  it('takes flags over environment over config file over defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-config-'))
    const { writeFile } = await import('node:fs/promises')
    try {
      const config = join(dir, 'sharedmem.json')
      await writeFile(
        config,
        JSON.stringify({ swarm: 'from-file', 'status-interval': 0, logFormat: 'json', identity: join(dir, 'id.key') })
      )
      const p = await startPeerProcess(['--config', config, '--swarm', 'from-flag'])
      expect(p.output()).toContain('(swarm "from-flag")')
      expect(p.output()).not.toContain('note: no --identity')
      expect(await p.stop()).toBe(0)

      process.env.SHAREDMEM_SWARM = 'from-env'
      try {
        const q = await startPeerProcess(['--config', config])
        expect(q.output()).toContain('(swarm "from-env")')
        expect(await q.stop()).toBe(0)
      } finally {
        delete process.env.SHAREDMEM_SWARM
      }
      const r = await startPeerProcess(['--config', config])
      expect(r.output()).toContain('(swarm "from-file")')
      expect(await r.stop()).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses unknown settings and bad values in the config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-config-'))
    const { writeFile } = await import('node:fs/promises')
    try {
      const config = join(dir, 'bad.json')
      await writeFile(config, JSON.stringify({ lisen: 7400 }))
      const unknown = await run('peer', '--config', config)
      expect(unknown.code).toBe(1)
      expect(unknown.err).toContain('unknown setting "lisen"')
      await writeFile(config, JSON.stringify({ 'log-level': 'chatty' }))
      expect((await run('peer', '--config', config)).err).toContain('must be one of')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('prints one line per event, filtered by level, as text or JSON', async () => {
    const { createLog } = await import('../../src/cli/log.js')
    const lines: string[] = []
    const io = { out: (l: string) => lines.push(`out ${l}`), err: (l: string) => lines.push(`err ${l}`) }
    const warnOnly = createLog(io, 'warn')
    warnOnly.info('hidden')
    warnOnly.debug('hidden')
    warnOnly.warn('shown')
    warnOnly.error('also shown')
    expect(lines).toEqual(['err shown', 'err also shown'])
    lines.length = 0
    createLog(io, 'debug', 'json').debug('details')
    expect(JSON.parse(lines[0].slice(4))).toMatchObject({ level: 'debug', msg: 'details', time: expect.any(String) })
  })
})
