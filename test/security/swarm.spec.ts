import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { warnings } from '../../src/cli/peer.js'
import { ErrorCode } from '../../src/index.js'
import { generateSwarmKey, parseSwarmKey } from '../../src/peer/swarm-key.js'
import { hostileNode } from '../fixtures/hostile.js'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

const KEY = generateSwarmKey()
const OTHER_KEY = generateSwarmKey()

/** An outsider's dial either fails or its connection is closed at once by the refusing peer. */
async function expectDialRefused(address: string, swarmKey?: string): Promise<void> {
  const outsider = await hostileNode({ swarmKey: swarmKey === undefined ? undefined : parseSwarmKey(swarmKey) })
  try {
    const dialled = await outsider.dial(multiaddr(address), { signal: AbortSignal.timeout(5_000) }).then(
      () => 'connected',
      () => 'refused'
    )
    await waitFor(() => outsider.getConnections().length === 0, `the refusal (dial ${dialled})`)
  } finally {
    await outsider.stop()
  }
}

describe('private swarm', () => {
  it('peers with the same swarm key join and replicate; others cannot connect, and their writes reach nobody', async () => {
    const [a, b] = await startPeers(2, { swarmKey: KEY })
    await expectDialRefused(a.addresses[0])
    await expectDialRefused(a.addresses[0], OTHER_KEY)

    const outsider = await startPeer({ bootstrap: [a.addresses[0]], swarmKey: OTHER_KEY, redialInterval: 100 })
    await outsider.save({ collection: 'c', key: 'from-outsider', variable: 1 })
    await b.save({ collection: 'c', key: 'from-member', variable: 2 })
    await waitFor(() => a.getSync({ collection: 'c', key: 'from-member' }) === 2, 'the member write')
    expect(a.getSync({ collection: 'c', key: 'from-outsider' })).toBeNull()
    expect(a.status().peers).toEqual([b.peerId])
    expect(outsider.status().peers).toEqual([])
  })

  it('refuses a malformed swarm key with a typed error', () => {
    expect(() => parseSwarmKey('not a key')).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }))
    expect(
      new TextDecoder().decode(
        parseSwarmKey(
          KEY.toUpperCase().replace('/KEY/SWARM/PSK/1.0.0/', '/key/swarm/psk/1.0.0/').replace('/BASE16/', '/base16/')
        )
      )
    ).toBe(KEY.trim())
  })
})

describe('allow-list', () => {
  it('connects only the listed peers', async () => {
    const b = await startPeer()
    const a = await startPeer({ allowPeers: [b.peerId], bootstrap: [b.addresses[0]] })
    await waitFor(() => a.status().peers.includes(b.peerId), 'the allowed peer')
    await expectDialRefused(a.addresses[0])
    const c = await startPeer({ bootstrap: [a.addresses[0]], redialInterval: 100 })
    await c.save({ collection: 'c', key: 'from-c', variable: 1 })
    await b.save({ collection: 'c', key: 'from-b', variable: 2 })
    await waitFor(() => a.getSync({ collection: 'c', key: 'from-b' }) === 2, 'the allowed write')
    expect(a.getSync({ collection: 'c', key: 'from-c' })).toBeNull()
    expect(a.status().peers).not.toContain(c.peerId)
  })
})

describe('sharedmem keygen', () => {
  it('writes a valid key with mode 0600 and never overwrites one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-key-'))
    try {
      const file = join(dir, 'swarm.key')
      const out: string[] = []
      const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) }
      expect(await main(['node', 'sharedmem', 'keygen', file], io)).toBe(0)
      expect(() => parseSwarmKey(new Uint8Array(0))).toThrow()
      expect(parseSwarmKey(await readFile(file))).toBeInstanceOf(Uint8Array)
      if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600)
      const before = await readFile(file, 'utf8')
      expect(await main(['node', 'sharedmem', 'keygen', file], io)).toBe(1)
      expect(out.join('\n')).toContain('already exists')
      expect(await readFile(file, 'utf8')).toBe(before)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('CLI warnings', () => {
  it('warns loudly when reachable beyond this host without a swarm key or token', () => {
    expect(warnings(['/ip4/127.0.0.1/tcp/7400/p2p/x'], false)).toEqual([])
    expect(warnings(['/ip4/0.0.0.0/tcp/7400/p2p/x'], false).join('\n')).toMatch(
      /WARNING: listening on .*without a swarm key/
    )
    expect(warnings(['/ip4/10.1.2.3/tcp/7400/p2p/x'], true)).toEqual([])
    expect(warnings(['/ip4/127.0.0.1/tcp/7400/p2p/x'], true, '0.0.0.0', false).join('\n')).toContain('without --token')
    expect(warnings(['/ip4/127.0.0.1/tcp/7400/p2p/x'], true, '0.0.0.0', true)).toEqual([])
  })
})
