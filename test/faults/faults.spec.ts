/**
 * Fault tests on real `sharedmem peer` processes on 127.0.0.1: late joiners,
 * kill -9 and restart, partitions, dropped gossip. Replicas are compared by
 * their digest (a fingerprint of every entry, tombstone and counter slot).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bulkSave, killAll, setFaults, startPeerProcess, waitIdentical, waitPeers } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const FAST = ['--test-faults', '--sync-interval', '500']
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sharedmem-faults-'))
})
afterEach(killAll)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const start = (...args: string[]) => startPeerProcess([...FAST, ...args])

describe('nothing lost', () => {
  it('a late joiner catches up on 10,000 entries through one bootstrap peer', async () => {
    const a = await start()
    const b = await start('--bootstrap', a.address)
    await waitPeers([a, b], [1, 1])
    await Promise.all([bulkSave(a, 'users', 'a', 0, 5000), bulkSave(b, 'users', 'b', 0, 5000)])
    const digest = await waitIdentical([a, b], 'A and B to agree')
    const c = await start('--bootstrap', a.address)
    expect(await waitIdentical([a, b, c], 'the joiner to catch up')).toBe(digest)
    const all = await c.client.getArray({ collection: 'users' })
    expect(Object.keys(all)).toHaveLength(10_000)
    expect(all.b4999).toEqual({ n: 4999, pad: 'x'.repeat(60) })
  })

  it('a peer killed with -9 while others write restarts with its identity and converges', async () => {
    const identity = join(dir, 'c.key')
    const a = await start()
    const b = await start('--bootstrap', a.address)
    let c = await start('--bootstrap', a.address, '--identity', identity)
    const firstId = c.peerId
    await waitPeers([a, b, c], [2, 2, 2])
    const writing = Promise.all([bulkSave(a, 'k', 'a', 0, 3000), bulkSave(b, 'k', 'b', 0, 3000)])
    await waitFor(async () => Object.keys(await c.client.getArray({ collection: 'k' })).length > 500, 'writes to flow')
    await c.kill()
    await a.client.increment({ counter: 'n' })
    c = await start('--bootstrap', b.address, '--identity', identity)
    expect(c.peerId).toBe(firstId)
    await writing
    await waitIdentical([a, b, c], 'the restarted peer to converge')
    expect(Object.keys(await c.client.getArray({ collection: 'k' }))).toHaveLength(6000)
    expect(await c.client.getCounter({ counter: 'n' })).toBe(1)
  })

  it('a healed partition converges: LWW winners, removes and summed counters on all four peers', async () => {
    const a = await start()
    const [b, c, d] = await Promise.all([
      start('--bootstrap', a.address),
      start('--bootstrap', a.address),
      start('--bootstrap', a.address)
    ])
    const all = [a, b, c, d]
    await waitPeers(all, [3, 3, 3, 3])
    await a.client.save({ collection: 'p', key: 'shared', variable: 'v0' })
    await waitIdentical(all, 'the first write')

    const left = [a, b]
    const right = [c, d]
    await Promise.all([
      ...left.map((p) => setFaults(p, { block: right.map((q) => q.peerId) })),
      ...right.map((p) => setFaults(p, { block: left.map((q) => q.peerId) }))
    ])
    await waitPeers(all, [1, 1, 1, 1])

    await a.client.save({ collection: 'p', key: 'hot', variable: 'left' })
    await a.client.save({ collection: 'p', key: 'only-left', variable: 'L' })
    await b.client.remove({ collection: 'p', key: 'shared' })
    for (let i = 0; i < 5; i++) await a.client.increment({ counter: 'n' })
    for (let i = 0; i < 3; i++) await b.client.increment({ counter: 'n' })
    await new Promise((resolve) => setTimeout(resolve, 20)) // the right side writes later (wall clock)
    await c.client.save({ collection: 'p', key: 'hot', variable: 'right' })
    await d.client.save({ collection: 'p', key: 'shared', variable: 'v2' })
    await c.client.remove({ collection: 'p', key: 'only-left' })
    for (let i = 0; i < 7; i++) await d.client.increment({ counter: 'n' })
    for (let i = 0; i < 2; i++) await c.client.decrement({ counter: 'n' })
    expect(await a.client.get({ collection: 'p', key: 'hot' })).toBe('left')

    await Promise.all(all.map((p) => setFaults(p, { block: [] })))
    await waitIdentical(all, 'the partition to heal')
    for (const p of all) {
      expect(await p.client.getArray({ collection: 'p' })).toEqual({ hot: 'right', shared: 'v2' })
      expect(await p.client.getCounter({ counter: 'n' })).toBe(5 + 3 + 7 - 2)
    }
  })

  it('a peer that drops all incoming gossip still converges through periodic sync', async () => {
    const a = await start()
    const b = await start('--bootstrap', a.address)
    await waitPeers([a, b], [1, 1])
    await setFaults(b, { dropGossip: 1 })
    await bulkSave(a, 'g', 'k', 0, 500)
    await a.client.increment({ counter: 'n' })
    await waitIdentical([a, b], 'sync to repair')
    expect(Object.keys(await b.client.getArray({ collection: 'g' }))).toHaveLength(500)
    expect(await b.client.getCounter({ counter: 'n' })).toBe(1)
    expect(b.output()).toMatch(/^sync with \S+: \d+ buckets differed/m)
  })
})
