import { afterEach, describe, expect, it } from 'vitest'
import type { SharedMemPeer, SyncRoundEvent } from '../../src/index.js'
import { MAX_DEFERRALS } from '../../src/sync/index.js'
import { Faults } from '../../src/testing.js'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

/** Every peer's view of a collection, keys sorted (insertion order differs between replicas). */
const views = (peers: SharedMemPeer[], collection: string) =>
  peers.map((p) => JSON.stringify(Object.entries(p.getArraySync({ collection })).sort()))

describe('replication between peers in one process', () => {
  it('writes from each of three peers reach all of them', async () => {
    const peers = await startPeers(3)
    await Promise.all(peers.map((p, i) => p.save({ collection: 'c', key: `from-${i}`, variable: { i } })))
    // Remove only after the save arrived: a remove concurrent with the save may rightly lose to it.
    await waitFor(() => peers[1].getSync({ collection: 'c', key: 'from-0' }) !== null, 'the save to arrive')
    await peers[1].remove({ collection: 'c', key: 'from-0' })
    const expected = { 'from-1': { i: 1 }, 'from-2': { i: 2 } }
    await waitFor(
      () => views(peers, 'c').every((v) => v === JSON.stringify(Object.entries(expected))),
      'all writes everywhere'
    )
  })

  it('counts what gossip applied, and tells each change in order, ASCII and other keys alike', async () => {
    const [a, b] = await startPeers(2)
    const events: string[] = []
    b.on('change', (e) => {
      if (e.type === 'save') events.push(`${e.key}=${JSON.stringify(e.value)}`)
    })
    const keys = ['k1', 'k2', 'ключ', 'k3', '🔑']
    for (const [i, key] of keys.entries()) a.save({ collection: 'c', key, variable: { i } })
    await waitFor(() => events.length === keys.length, 'every write at b')
    expect(events).toEqual(keys.map((key, i) => `${key}=${JSON.stringify({ i })}`))
    expect(b.status().gossip.applied).toBe(keys.length)
    expect(b.status().gossip.rejected).toBe(0)
  })

  it('sends a key written several times in one turn once, its latest write, in the order written', async () => {
    const [a, b] = await startPeers(2)
    const events: string[] = []
    b.on('change', (e) => {
      if (e.type === 'save') events.push(`${e.collection}/${e.key}=${JSON.stringify(e.value)}`)
    })
    const sentBefore = a.status().gossip.messagesOut
    // One synchronous turn: one batch, where c/x and d/x are each superseded twice, and y once.
    for (let i = 0; i < 3; i++) {
      a.save({ collection: 'c', key: 'x', variable: i })
      a.save({ collection: 'd', key: 'x', variable: -i })
      a.save({ collection: 'c', key: `once${i}`, variable: i })
    }
    a.save({ collection: 'c', key: 'y', variable: 'first' })
    a.save({ collection: 'c', key: 'y', variable: 'last' })
    await waitFor(() => events.length === 6, 'the latest write of each key at b')
    expect(events).toEqual(['c/once0=0', 'c/once1=1', 'c/x=2', 'd/x=-2', 'c/once2=2', 'c/y="last"'])
    expect(a.status().gossip.messagesOut - sentBefore).toBe(1)
    expect(b.status().gossip.applied).toBe(6)
  })

  it('concurrent writes to one key end identical on all peers', async () => {
    const peers = await startPeers(3)
    for (let round = 0; round < 20; round++) {
      await Promise.all(peers.map((p, i) => p.save({ collection: 'c', key: 'hot', variable: `${round}-${i}` })))
    }
    // A barrier write from each peer, sent after its last write to 'hot', on the same stream.
    await Promise.all(peers.map((p, i) => p.save({ collection: 'barrier', key: String(i), variable: true })))
    await waitFor(
      () => peers.every((p) => Object.keys(p.getArraySync({ collection: 'barrier' })).length === 3),
      'barriers'
    )
    const values = peers.map((p) => p.getSync({ collection: 'c', key: 'hot' }))
    expect(values[0]).toMatch(/^19-\d$/)
    expect(new Set(values).size).toBe(1)
  })

  it('10 peers × 100 concurrent increments end at exactly 1,000 everywhere', async () => {
    const peers = await startPeers(10)
    await Promise.all(peers.flatMap((p) => Array.from({ length: 100 }, () => p.increment({ counter: 'n' }))))
    await waitFor(() => peers.every((p) => p.getCounterSync({ counter: 'n' }) === 1000), 'counter convergence')
    await Promise.all(peers.map((p) => p.decrement({ counter: 'n' })))
    await waitFor(() => peers.every((p) => p.getCounterSync({ counter: 'n' }) === 990), 'decrements')
  })

  it('delivers change events for local and remote changes', async () => {
    const [a, b] = await startPeers(2)
    const seen: unknown[] = []
    b.on('change', (e) => seen.push(e))
    await a.save({ collection: 'c', key: 'k', variable: 1 })
    // Writes of one key in the same tick are coalesced; wait so that both are sent.
    await waitFor(() => seen.length === 1, 'the save event')
    await a.remove({ collection: 'c', key: 'k' })
    await a.increment({ counter: 'n' })
    await waitFor(() => seen.length === 3, 'three change events')
    expect(seen).toEqual([
      expect.objectContaining({ type: 'save', collection: 'c', key: 'k', value: 1, origin: 'remote', node: a.peerId }),
      expect.objectContaining({ type: 'remove', collection: 'c', key: 'k', value: null, origin: 'remote' }),
      expect.objectContaining({ type: 'counter', counter: 'n', value: 1, origin: 'remote' })
    ])
  })

  it('peers that share only a bootstrap peer connect directly and survive it leaving', async () => {
    const [boot, a, b] = await startPeers(3)
    expect(a.status().peers).toContain(b.peerId)
    await boot.stop()
    await a.save({ collection: 'c', key: 'k', variable: 'after' })
    await waitFor(() => b.getSync({ collection: 'c', key: 'k' }) === 'after', 'write without the bootstrap peer')
  })
})

describe('joining', () => {
  it('syncNow while the catch-up round runs waits for it, instead of sending everything again', async () => {
    const n = 2000
    // Small frames (200 entries, compressed), so the event loop turns between them.
    const full = await startPeer({ syncInterval: 60_000, maxBatchEntries: 50 })
    for (let i = 0; i < n; i++) full.save({ collection: 'c', key: `k${i}`, variable: { i } })
    await full.get({ collection: 'c', key: 'k0' })
    const joiner = await startPeer({ bootstrap: [full.addresses[0]], syncInterval: 60_000 })
    const started = new Promise<void>((resolve) => joiner.once('sync:progress', () => resolve()))
    const rounds: string[] = []
    const transferred: string[] = []
    for (const [name, peer] of [
      ['full', full],
      ['joiner', joiner]
    ] as const) {
      peer.on('sync', (e) => {
        rounds.push(`${name} ${e.role}`)
        if (e.sent + e.received > 0) transferred.push(`${name} ${e.role}`)
      })
    }
    // The joiner merges slowly (half a millisecond an entry), so the round outlasts the topic handshake.
    joiner.on('change', () => {
      const until = performance.now() + 0.5
      while (performance.now() < until) {}
    })
    await started
    await waitFor(
      () => full.status().peers.includes(joiner.peerId) && joiner.status().peers.includes(full.peerId),
      'the two to share the topic'
    )
    expect(Object.keys(joiner.getArraySync({ collection: 'c' })).length).toBeLessThan(n)
    // Each side asks for a round while the first one still runs.
    await Promise.all([full.syncNow(), joiner.syncNow()])
    expect(joiner.status().digest).toBe(full.status().digest)
    // One round moved entries, the one the peer whose id sorts first opened; the rounds each
    // syncNow ran after it (its digest was older than the call) found the two in sync.
    const fullOpened = full.peerId < joiner.peerId
    expect(transferred.sort()).toEqual(
      fullOpened ? ['full initiator', 'joiner responder'] : ['full responder', 'joiner initiator']
    )
    expect(rounds.length).toBeGreaterThan(2)
    expect(joiner.status().sync.entriesReceived).toBe(n)
  })

  it('syncNow rejects, naming the peer, when a round fails; it still syncs with the others', async () => {
    const [a, b, c] = await startPeers(3)
    await waitFor(() => a.status().peers.length === 2, 'a to share the topic with both')
    // Not public API: b stops answering sync, its gossip still up.
    await (b as unknown as { sync: { stop(): Promise<void> } }).sync.stop()
    a.save({ collection: 'c', key: 'k', variable: 1 })
    const failure = await a.syncNow().then(
      () => undefined,
      (err: unknown) => err
    )
    expect(failure).toMatchObject({ code: 'ERR_REMOTE', message: expect.stringContaining(`1 of 2 peers: ${b.peerId}`) })
    expect(c.getSync({ collection: 'c', key: 'k' })).toBe(1)
  })

  it('a lone peer publishes nothing; a peer that connects later still gets every write', async () => {
    const alone = await startPeer({ syncInterval: 60_000 })
    for (let i = 0; i < 50; i++) await alone.save({ collection: 'c', key: `k${i}`, variable: i })
    await alone.increment({ counter: 'n' })
    await waitFor(() => alone.status().gossip.unsentIsolated === 51, 'the batch to be flushed')
    expect(alone.status().gossip.messagesOut).toBe(0)
    // Periodic sync is a minute away: the round every new connection starts delivers them.
    const late = await startPeer({ bootstrap: [alone.addresses[0]], syncInterval: 60_000 })
    await waitFor(() => Object.keys(late.getArraySync({ collection: 'c' })).length === 50, 'the writes made alone')
    expect(late.getCounterSync({ counter: 'n' })).toBe(1)
    await waitFor(() => alone.status().peers.length === 1, 'the two to share the topic')
    await alone.save({ collection: 'c', key: 'after', variable: true })
    await waitFor(() => late.getSync({ collection: 'c', key: 'after' }) === true, 'a write once connected')
    expect(alone.status().gossip.messagesOut).toBeGreaterThan(0)
  })

  it('bootstraps from host:port and re-dials a bootstrap peer that restarts', async () => {
    const { createServer } = await import('node:net')
    // A free port for the bootstrap peer, so that it can come back on the same one.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number }
        probe.close(() => resolve(port))
      })
    })
    let boot = await startPeer({ listen: [port] })
    const joiner = await startPeer({ bootstrap: [`127.0.0.1:${port}`], redialInterval: 200 })
    await waitFor(() => joiner.status().peers.length === 1, 'the first connection')
    await boot.stop()
    await waitFor(() => joiner.status().peers.length === 0, 'the bootstrap peer to leave')
    boot = await startPeer({ listen: [port] })
    await waitFor(() => joiner.status().peers.length === 1, 'the re-dial')
    await joiner.save({ collection: 'c', key: 'k', variable: 'again' })
    await waitFor(() => boot.getSync({ collection: 'c', key: 'k' }) === 'again', 'replication after the re-dial')
  })
})

describe('periodic sync while writes arrive', () => {
  const MISSED = 3000
  /** Not public API: lets a test start a periodic round, as the peer's timer does. */
  type SyncInternals = { sync: { roundWith(peer: string): Promise<SyncRoundEvent> | undefined } }

  /**
   * Peer a (periodic rounds every `syncInterval` ms) and peer b (none), b losing all of a's
   * gossip: 3,000 writes of a's in collection c reach b only by sync, about 2,100 of the 4,096
   * buckets. Meanwhile a writes in every turn of its event loop (so each of its digest exchanges
   * sees some) until `stop()`, at most 60,000 writes or 20 s.
   */
  async function missedWhileWriting(syncInterval: number) {
    const faults = new Faults()
    const a = await startPeer({ syncInterval })
    const b = await startPeer({ bootstrap: [a.addresses[0]], syncInterval: 60_000, faults })
    await waitFor(() => a.status().peers.length === 1 && b.status().peers.length === 1, 'the two to share the topic')
    await waitFor(() => b.status().sync.rounds > 0, 'the round of the new connection')
    const rounds: SyncRoundEvent[] = []
    // Whether each deferred round left a's lastSyncAt as the round before it had.
    const keptLastSync: boolean[] = []
    let lastSyncAt = a.status().sync.lastSyncAt
    a.on('sync', (e) => {
      const now = a.status().sync.lastSyncAt
      if (e.deferred) keptLastSync.push(now === lastSyncAt)
      lastSyncAt = now
      if (e.role === 'initiator') rounds.push(e)
    })
    faults.set({ dropGossip: 1 })
    for (let i = 0; i < MISSED; i++) a.save({ collection: 'c', key: `k${i}`, variable: i })
    let writing = true
    let written = 0
    const deadline = Date.now() + 20_000
    const write = () => {
      if (!writing || written >= 60_000 || Date.now() >= deadline) return
      for (let i = 0; i < 10; i++) a.save({ collection: 'noise', key: `n${written}`, variable: written++ })
      setImmediate(write)
    }
    write()
    const missing = () => MISSED - Object.keys(b.getArraySync({ collection: 'c' })).length
    return { a, b, rounds, keptLastSync, missing, stop: () => (writing = false) }
  }

  it('defers at most MAX_DEFERRALS rounds in a row, then repairs what gossip lost', async () => {
    const { b, rounds, keptLastSync, missing, stop } = await missedWhileWriting(150)
    try {
      await waitFor(() => missing() === 0, "a's writes at b", { timeout: 15_000 })
      await waitFor(() => rounds.some((e) => !e.deferred && e.sent > 0), 'the repairing round to end at a')
    } finally {
      stop()
    }
    const pattern = rounds.map((e) => (e.deferred ? 'D' : e.sent > 0 ? 'R' : '-')).join('')
    // a deferred while writes arrived, never more than MAX_DEFERRALS rounds in a row, and a round repaired.
    expect(pattern).toMatch(/D/)
    expect(pattern).not.toMatch(new RegExp(`D{${MAX_DEFERRALS + 1}}`))
    expect(pattern).toMatch(/R/)
    for (const e of rounds.filter((r) => r.deferred)) expect(e.sent + e.received).toBe(0)
    expect(keptLastSync.length).toBeGreaterThan(0)
    expect(keptLastSync.every(Boolean)).toBe(true)
    // b answered those rounds, and counts them as deferred too.
    expect(b.status().sync.deferred).toBeGreaterThan(0)
  })

  it('syncNow repairs even when it meets a periodic round that defers', async () => {
    const { a, b, missing, stop } = await missedWhileWriting(60_000)
    try {
      // A periodic round starts once no other round between the two runs (the new connection's may).
      const sync = (a as unknown as SyncInternals).sync
      let periodic: Promise<SyncRoundEvent> | undefined
      await waitFor(() => {
        periodic = sync.roundWith(b.peerId)
        return periodic !== undefined
      }, 'a periodic round')
      await a.syncNow()
      expect(missing()).toBe(0)
      expect((await periodic)?.deferred).toBe(true)
    } finally {
      stop()
    }
  })
})

describe('past the tombstone horizon', () => {
  const HOUR = 3_600_000
  /** Not public API: runs a collection pass now, as the peer's timer does (with its watermark, where it has one). */
  type Internals = { replica: { collect(watermark?: number): number }; membership?: { watermark(): number } }
  const collectNow = (p: SharedMemPeer) => {
    const internals = p as unknown as Internals
    return internals.replica.collect(internals.membership?.watermark())
  }

  /** Options of a peer on the fake `clock`, tombstone TTL one hour, timers that only the test drives. */
  const onFakeClock = (clock: { now: number }) => ({
    now: () => clock.now,
    tombstoneTtl: HOUR,
    collectInterval: 3_600_000,
    syncInterval: 3_600_000,
    redialInterval: 100,
    rendezvous: false as const
  })

  /** Peers sharing one fake clock (tombstone TTL one hour), each with its own faults, all connected and synced. */
  async function swarm(n: number, extra: Parameters<typeof startPeer>[0] = {}) {
    const clock = { now: Date.now() }
    const options = { ...onFakeClock(clock), ...extra }
    const faults = Array.from({ length: n }, () => new Faults())
    const first = await startPeer({ ...options, faults: faults[0] })
    const rest = []
    for (let i = 1; i < n; i++)
      rest.push(await startPeer({ ...options, faults: faults[i], bootstrap: [first.addresses[0]] }))
    const peers = [first, ...rest]
    await waitFor(() => peers.every((p) => p.status().peers.length === n - 1), 'every peer subscribed to every other')
    await Promise.all(peers.map((p) => p.syncNow()))
    /** Cuts `group` off from the others, both ways. */
    const cut = (group: SharedMemPeer[]) => {
      const ids = (ps: SharedMemPeer[]) => ps.map((p) => p.peerId)
      for (const [i, p] of peers.entries()) {
        faults[i].set({ block: group.includes(p) ? ids(peers.filter((q) => !group.includes(q))) : ids(group) })
      }
    }
    const heal = async () => {
      for (const f of faults) f.set({ block: [] })
      await waitFor(() => peers.every((p) => p.status().peers.length === n - 1), 'the partition to heal')
      await Promise.all(peers.map((p) => p.syncNow()))
      await Promise.all(peers.map((p) => p.syncNow()))
    }
    return { peers, clock, cut, heal, options }
  }

  it('(a) two peers cut off together for longer than the horizon do not bring a removed key back', async () => {
    const { peers, clock, cut, heal } = await swarm(3)
    const [a, b, c] = peers
    await a.save({ collection: 'c', key: 'k', variable: 'old' })
    await Promise.all(peers.map((p) => p.syncNow()))
    cut([a, b])
    await waitFor(() => c.status().peers.length === 0 && a.status().peers.length === 1, 'the partition')
    await c.remove({ collection: 'c', key: 'k' })
    clock.now += 3 * HOUR
    // The two cut off keep syncing with each other; every peer collects what it may.
    await a.syncNow()
    for (const p of peers) collectNow(p)
    await heal()
    for (const p of peers) expect(p.getSync({ collection: 'c', key: 'k' })).toBeNull()
    expect(new Set(peers.map((p) => p.status().digest)).size).toBe(1)
  })

  it('(c) a peer cut off alone for longer than the horizon keeps its acknowledged writes, and removals made meanwhile hold', async () => {
    const { peers, clock, cut, heal } = await swarm(3)
    const [a, b, c] = peers
    await a.save({ collection: 'c', key: 'removed-meanwhile', variable: 'old' })
    await Promise.all(peers.map((p) => p.syncNow()))
    cut([a])
    await waitFor(() => a.status().peers.length === 0 && b.status().peers.length === 1, 'the partition')
    await a.save({ collection: 'c', key: 'mine', variable: 'written at the start of the cut' })
    await c.remove({ collection: 'c', key: 'removed-meanwhile' })
    clock.now += 3 * HOUR
    await b.syncNow()
    for (const p of peers) collectNow(p)
    await heal()
    for (const p of peers) {
      expect(p.getSync({ collection: 'c', key: 'mine' })).toBe('written at the start of the cut')
      expect(p.getSync({ collection: 'c', key: 'removed-meanwhile' })).toBeNull()
    }
    expect(new Set(peers.map((p) => p.status().digest)).size).toBe(1)
  })

  it('(d) a new peer cut off before its first round does not collect its own removals (chaos seed 310)', async () => {
    const { peers, clock, options } = await swarm(2)
    const [a, b] = peers
    await a.save({ collection: 'c', key: 'k', variable: 'old' })
    await Promise.all(peers.map((p) => p.syncNow()))
    // A restarted memory-only peer: it knows no member yet, and is cut off from its first moment.
    const faults = new Faults()
    faults.set({ block: [a.peerId, b.peerId] })
    const fresh = await startPeer({ ...options, faults, bootstrap: [a.addresses[0]] })
    // Later than the save (the fresh peer never saw it: the two are concurrent, and the later stamp wins).
    clock.now += 1000
    await fresh.remove({ collection: 'c', key: 'k' })
    clock.now += 3 * HOUR
    expect(collectNow(fresh)).toBe(0)
    faults.set({ block: [] })
    await waitFor(() => fresh.status().peers.length === 2, 'the fresh peer to join')
    await fresh.syncNow()
    await Promise.all(peers.map((p) => p.syncNow()))
    for (const p of [...peers, fresh]) expect(p.getSync({ collection: 'c', key: 'k' })).toBeNull()
  })

  it('(b) after the whole swarm was down for longer than the horizon, a stale peer does not bring a removed key back', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const root = await mkdtemp(join(tmpdir(), 'sharedmem-horizon-'))
    try {
      const dirs = [join(root, 'a'), join(root, 'b'), join(root, 's')]
      const clock = { now: Date.now() }
      const options = { ...onFakeClock(clock), fsyncInterval: 0 }
      const start = async (i: number, faults: Faults, bootstrap?: SharedMemPeer) =>
        startPeer({ ...options, dataDir: dirs[i], faults, bootstrap: bootstrap && [bootstrap.addresses[0]] })
      const connected = (peers: SharedMemPeer[]) =>
        waitFor(() => peers.every((p) => p.status().peers.length === peers.length - 1), 'the peers to connect')
      const faults = [new Faults(), new Faults(), new Faults()]
      const a = await start(0, faults[0])
      const b = await start(1, faults[1], a)
      const s = await start(2, faults[2], a)
      await connected([a, b, s])
      await Promise.all([a, b, s].map((p) => p.syncNow()))
      await a.save({ collection: 'c', key: 'k', variable: 'old' })
      await Promise.all([a, b, s].map((p) => p.syncNow()))
      // s is cut off; a removes the key and a and b sync; then the whole swarm goes down.
      faults[0].set({ block: [s.peerId] })
      faults[1].set({ block: [s.peerId] })
      faults[2].set({ block: [a.peerId, b.peerId] })
      await waitFor(() => s.status().peers.length === 0 && a.status().peers.length === 1, 'the partition')
      await a.remove({ collection: 'c', key: 'k' })
      await a.syncNow()
      await stopAll()
      clock.now += 3 * HOUR
      // a and b come back first and collect what they may; then the stale peer.
      const a2 = await start(0, new Faults())
      const b2 = await start(1, new Faults(), a2)
      await connected([a2, b2])
      await Promise.all([a2, b2].map((p) => p.syncNow()))
      for (const p of [a2, b2]) collectNow(p)
      const again = [a2, b2, await start(2, new Faults(), a2)]
      await connected(again)
      await Promise.all(again.map((p) => p.syncNow()))
      await Promise.all(again.map((p) => p.syncNow()))
      for (const p of again) expect(p.getSync({ collection: 'c', key: 'k' })).toBeNull()
      expect(new Set(again.map((p) => p.status().digest)).size).toBe(1)
      await stopAll()
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  it('equal replicas show equal digests whatever the phase of their collection timers', async () => {
    const { peers, clock } = await swarm(2)
    const [a, b] = peers
    await a.save({ collection: 'c', key: 'session', variable: 's', options: { expiresIn: 1000 } })
    await a.save({ collection: 'c', key: 'gone', variable: 1 })
    await a.remove({ collection: 'c', key: 'gone' })
    await a.save({ collection: 'c', key: 'kept', variable: 2 })
    await Promise.all(peers.map((p) => p.syncNow()))
    expect(a.status().digest).toBe(b.status().digest)
    clock.now += 2 * HOUR
    // Two rounds: the second tells each that the other holds everything since the first.
    await a.syncNow()
    await a.syncNow()
    // a collects now (its timer has run), b not yet.
    expect(collectNow(a)).toBe(2)
    expect(b.status().dead + b.status().entries).toBe(3)
    expect(a.status().digest).toBe(b.status().digest)
  })
})
