/**
 * clear, touch and keys across peers in one process: how a clear meets saves it has not seen,
 * what a touch carries to other replicas, and iterate over a collection, embedded and remote.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { Faults } from '../../src/testing.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

const sorted = (record: Record<string, unknown>) => JSON.stringify(Object.entries(record).sort())

/** Two peers, each with its own faults, connected and synced; `cut` parts them, `heal` joins them again and syncs. */
async function pair(extra: Parameters<typeof startPeer>[0] = {}) {
  const faults = [new Faults(), new Faults()]
  const a = await startPeer({ redialInterval: 100, rendezvous: false, ...extra, faults: faults[0] })
  const b = await startPeer({
    redialInterval: 100,
    rendezvous: false,
    ...extra,
    faults: faults[1],
    bootstrap: [a.addresses[0]]
  })
  const peers = [a, b]
  await waitFor(() => peers.every((p) => p.status().peers.length === 1), 'the two to share the topic')
  const cut = async () => {
    faults[0].set({ block: [b.peerId] })
    faults[1].set({ block: [a.peerId] })
    await waitFor(() => peers.every((p) => p.status().peers.length === 0), 'the partition')
  }
  const heal = async () => {
    for (const f of faults) f.set({ block: [] })
    await waitFor(() => peers.every((p) => p.status().peers.length === 1), 'the partition to heal', {
      timeout: 15_000
    })
    await Promise.all(peers.map((p) => p.syncNow()))
    await Promise.all(peers.map((p) => p.syncNow()))
  }
  return { a, b, cut, heal }
}

describe('clear across peers', () => {
  it('removes on every replica what it removed here', async () => {
    const { a, b } = await pair()
    for (const key of ['x', 'y', 'z']) await a.save({ collection: 'c', key, variable: key })
    await b.save({ collection: 'other', key: 'x', variable: 'kept' })
    await waitFor(() => Object.keys(b.getArraySync({ collection: 'c' })).length === 3, "a's saves at b")
    await waitFor(() => a.getSync({ collection: 'other', key: 'x' }) !== null, "b's save at a")
    expect(await b.clear({ collection: 'c' })).toBe(3)
    await waitFor(() => sorted(a.getArraySync({ collection: 'c' })) === '[]', 'the clear at a')
    for (const p of [a, b]) expect(p.getArraySync({ collection: 'other' })).toEqual({ x: 'kept' })
  })

  it('keeps a save made elsewhere that the clearing replica had not seen (observed-remove)', async () => {
    const { a, b, cut, heal } = await pair()
    await a.save({ collection: 'c', key: 'seen', variable: 1 })
    await waitFor(() => b.getSync({ collection: 'c', key: 'seen' }) !== null, 'the first save at b')
    await cut()
    await b.save({ collection: 'c', key: 'unseen', variable: 'concurrent' })
    expect(await a.clear({ collection: 'c' })).toBe(1)
    await heal()
    await waitFor(
      () => [a, b].every((p) => sorted(p.getArraySync({ collection: 'c' })) === sorted({ unseen: 'concurrent' })),
      'both replicas to hold the unseen save only'
    )
    expect(new Set([a, b].map((p) => p.status().digest)).size).toBe(1)
  })
})

describe('touch across peers', () => {
  it('carries the new deadline, not only the value, to the other replicas', async () => {
    const clock = { now: Date.now() }
    const { a, b } = await pair({ now: () => clock.now })
    await a.save({ collection: 'c', key: 'touched', variable: { v: 1 }, options: { expiresIn: 1000 } })
    await a.save({ collection: 'c', key: 'left', variable: { v: 2 }, options: { expiresIn: 1000 } })
    await waitFor(() => Object.keys(b.getArraySync({ collection: 'c' })).length === 2, 'the saves at b')
    const touched = new Promise<void>((resolve) =>
      b.on('change', (e) => {
        if (e.type === 'save' && e.key === 'touched') resolve()
      })
    )
    expect(await a.touch({ collection: 'c', key: 'touched', options: { expiresIn: 60_000 } })).toBe(true)
    await touched
    clock.now += 2000
    for (const p of [a, b]) expect(p.getArraySync({ collection: 'c' })).toEqual({ touched: { v: 1 } })
    expect(await b.touch({ collection: 'c', key: 'left', options: { expiresIn: 60_000 } })).toBe(false)
  })
})

describe('iterate', () => {
  async function expectIterates(mem: Pick<SharedMemPeer, 'iterate'>, expected: Record<string, unknown>) {
    const seen: Record<string, unknown> = {}
    for await (const [key, value] of mem.iterate({ collection: 'c', pageSize: 3 })) {
      expect(key in seen, key).toBe(false)
      seen[key] = value
    }
    expect(seen).toEqual(expected)
  }

  it('yields each live key of a collection once with its value, embedded and through connect()', async () => {
    const peer = await startPeer({ rendezvous: false })
    const expected: Record<string, unknown> = { 'saved-null': null }
    for (let i = 0; i < 10; i++) {
      expected[`k${i}`] = { i }
      await peer.save({ collection: 'c', key: `k${i}`, variable: { i } })
    }
    await peer.save({ collection: 'c', key: 'saved-null', variable: null })
    await peer.save({ collection: 'c', key: 'removed', variable: 1 })
    await peer.remove({ collection: 'c', key: 'removed' })
    await expectIterates(peer, expected)
    const server = await startHttpServer(peer, { port: 0 })
    try {
      await expectIterates(connect(server.url), expected)
      const empty = connect(server.url).iterate({ collection: 'none' })
      expect(await empty.next()).toEqual({ done: true, value: undefined })
      // Over GET, the query string carries limit and values as text.
      const response = await fetch(`${server.url}/keys?collection=c&limit=2&values=true`)
      const { result } = (await response.json()) as { result: { keys: string[]; values: unknown[]; cursor: string } }
      expect(result.keys.length).toBe(2)
      expect(result.values.length).toBe(2)
      expect(result.cursor).toMatch(/^\d+$/)
    } finally {
      await server.close()
    }
  })

  it('refuses a bad collection at the first step, with the typed error', async () => {
    const peer = await startPeer({ rendezvous: false })
    await expect(peer.iterate({ collection: '' }).next()).rejects.toMatchObject({ code: 'ERR_INVALID_NAME' })
  })
})
