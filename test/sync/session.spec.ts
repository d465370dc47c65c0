import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { decodeSyncMessage, type SyncMessage } from '../../src/codec/sync.js'
import { ErrorCode } from '../../src/errors.js'
import { Replica } from '../../src/store/replica.js'
import type { CounterUpdate, EntryUpdate } from '../../src/store/types.js'
import { Membership } from '../../src/sync/membership.js'
import { initiate, newResult, respond, type SessionContext } from '../../src/sync/session.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

/** Writers by name, in the order of their names (the tie-break order). */
const ID = {
  A: PEER_IDS[0],
  B: PEER_IDS[1],
  C: PEER_IDS[2],
  J: PEER_IDS[3],
  K: PEER_IDS[4],
  L: PEER_IDS[5],
  n1: PEER_IDS[6],
  n2: PEER_IDS[7],
  n3: PEER_IDS[8]
}

const NOW = 1_700_000_000_000
const DAY = 86_400_000

function replica(node: string, now = () => NOW): Replica {
  return new Replica({ node, slot: `${node}/1`, clock: new Clock({ now, maxSkew: DAY }), tombstoneTtl: DAY })
}

function context(r: Replica, extra: Partial<SessionContext> = {}): SessionContext {
  return {
    replica: r,
    swarm: 's',
    chunkEntries: 7,
    chunkBytes: 256,
    scanBatch: 5,
    window: 2,
    membership: new Membership({ self: r.node, memberTimeout: DAY, now: r.clock.now }),
    now: r.clock.now,
    ...extra
  }
}

/** An in-memory one-way pipe of frames, counting bytes and the most UPDATES frames ever queued in it. */
function channel() {
  const queue: Uint8Array[] = []
  let wake: (() => void) | undefined
  let closed = false
  const stats = { bytes: 0, frames: 0, updates: 0, maxQueuedUpdates: 0, acks: 0, acknowledged: 0 }
  const isUpdates = (frame: Uint8Array) => decodeSyncMessage(frame, limits).type === 'frame'
  return {
    stats,
    async pump(source: AsyncGenerator<Uint8Array>) {
      try {
        for await (const frame of source) {
          stats.bytes += frame.byteLength
          stats.frames++
          const msg = decodeSyncMessage(frame, limits)
          if (msg.type === 'frame') stats.updates++
          if (msg.type === 'ack') {
            stats.acks++
            stats.acknowledged += msg.frames
          }
          queue.push(frame)
          stats.maxQueuedUpdates = Math.max(stats.maxQueuedUpdates, queue.filter(isUpdates).length)
          wake?.()
        }
      } finally {
        closed = true
        wake?.()
      }
    },
    async *inbox(): AsyncGenerator<SyncMessage> {
      for (;;) {
        const frame = queue.shift()
        if (frame !== undefined) yield decodeSyncMessage(frame, limits)
        else if (closed) return
        else await new Promise<void>((resolve) => (wake = resolve))
      }
    }
  }
}

/**
 * A round; `beforeReply`, when given, runs as the initiator takes the responder's first reply, and
 * `beforeFrame` as the responder takes each frame of the initiator's entries (as gossip would land meanwhile).
 */
async function round(a: SessionContext, b: SessionContext, beforeReply?: () => void, beforeFrame?: () => void) {
  const aToB = channel()
  const bToA = channel()
  const ra = newResult()
  const rb = newResult()
  const replies = bToA.inbox()
  const requests = aToB.inbox()
  const responderInbox: AsyncGenerator<SyncMessage> =
    beforeFrame === undefined
      ? requests
      : (async function* () {
          for await (const msg of requests) {
            if (msg.type === 'frame') beforeFrame()
            yield msg
          }
        })()
  const inbox: AsyncGenerator<SyncMessage> =
    beforeReply === undefined
      ? replies
      : (async function* () {
          let first = true
          for await (const msg of replies) {
            if (first) beforeReply()
            first = false
            yield msg
          }
        })()
  await Promise.all([aToB.pump(initiate(a, inbox, ra)), bToA.pump(respond(b, responderInbox, rb))])
  return {
    initiator: ra,
    responder: rb,
    bytes: aToB.stats.bytes + bToA.stats.bytes,
    aToB: aToB.stats,
    bToA: bToA.stats
  }
}

function snapshot(r: Replica): string {
  return JSON.stringify({
    entries: [...r.entries()].map((e) => JSON.stringify(e)).sort(),
    counters: [...r.counterSlots()].map((c) => JSON.stringify(c)).sort()
  })
}

const entry: fc.Arbitrary<EntryUpdate> = fc
  .record({
    collection: fc.constantFrom('a', 'b'),
    key: fc.integer({ min: 0, max: 40 }).map(String),
    wall: fc.integer({ min: NOW - 100, max: NOW }),
    logical: fc.integer({ min: 0, max: 3 }),
    node: fc.constantFrom(ID.n1, ID.n2, ID.n3),
    expiresAt: fc.constant(0),
    deleted: fc.boolean()
  })
  .map((e) => ({ ...e, value: e.deleted ? null : `${e.node}:${e.wall}:${e.logical}` }))
const counter: fc.Arbitrary<CounterUpdate> = fc.record({
  counter: fc.constantFrom('x', 'y'),
  slot: fc.constantFrom(`${ID.n1}/1`, `${ID.n2}/1`, `${ID.n3}/7`),
  inc: fc.nat(20),
  dec: fc.nat(20)
})
const state = fc.record({ entries: fc.array(entry, { maxLength: 60 }), counters: fc.array(counter, { maxLength: 8 }) })

function load(r: Replica, s: { entries: EntryUpdate[]; counters: CounterUpdate[] }): Replica {
  for (const e of s.entries) r.mergeEntry(e)
  for (const c of s.counters) r.mergeCounter(c)
  return r
}

describe('sync session', () => {
  it('leaves both replicas equal to the merge of the two, in one round', async () => {
    await fc.assert(
      // Each side has its own window.
      fc.asyncProperty(state, state, fc.tuple(fc.nat(3), fc.nat(3)), async (sa, sb, windows) => {
        const a = load(replica(ID.A), sa)
        const b = load(replica(ID.B), sb)
        const expected = snapshot(load(load(replica(ID.C), sa), sb))
        const [wa, wb] = [windows[0] + 1, windows[1] + 1]
        const { initiator, responder } = await round(context(a, { window: wa }), context(b, { window: wb }))
        expect(snapshot(a)).toBe(expected)
        expect(snapshot(b)).toBe(expected)
        expect(initiator.inSync).toBe(responder.inSync)
        expect(a.digest.leaves).toEqual(b.digest.leaves)
      }),
      { numRuns: 60 }
    )
  })

  it('hands each side the other’s state as of the round’s start, whatever reaches the responder meanwhile', async () => {
    await fc.assert(
      fc.asyncProperty(state, state, fc.array(entry, { maxLength: 30 }), async (sa, sb, arriving) => {
        const a = load(replica(ID.A), sa)
        const b = load(replica(ID.B), sb)
        // Writes that reach the responder between the initiator's frames: gossip, some the initiator sends too.
        const gossip = [...arriving, ...sa.entries.filter((_, i) => i % 3 === 0)]
        let next = 0
        const land = () => {
          for (let i = 0; i < 4 && next < gossip.length; i++) b.mergeEntry(gossip[next++])
        }
        await round(context(a, { chunkEntries: 3 }), context(b), undefined, land)
        // Merging a side's state at the start into the other changes nothing: it holds all of it, or newer.
        const heldA = a.digest.root()
        load(a, sb)
        expect(a.digest.root()).toBe(heldA)
        const heldB = b.digest.root()
        load(b, sa)
        expect(b.digest.root()).toBe(heldB)
      }),
      { numRuns: 100 }
    )
  })

  it('sends a joiner’s replica once, and nothing back of what reached the joiner meanwhile', async () => {
    const a = replica(ID.A)
    const j = replica(ID.J)
    const sent: EntryUpdate[] = []
    for (let i = 0; i < 2_000; i++) sent.push(a.save('c', `k${i}`, i, 0))
    // Gossip during the join: new writes (the initiator's too) and copies of entries it sends.
    let written = 0
    const land = () => {
      for (let i = 0; i < 5; i++, written++) {
        const update = a.save('new', `w${written}`, written, 0)
        j.mergeEntry(update)
        j.mergeEntry(sent[(written * 7) % sent.length])
      }
    }
    const { initiator, responder } = await round(context(a, { chunkEntries: 64 }), context(j), undefined, land)
    expect(written).toBeGreaterThan(100)
    expect(initiator.sent).toBeGreaterThanOrEqual(2_000)
    expect(responder.sent).toBe(0)
    expect(j.getArray('c')).toEqual(a.getArray('c'))
  })

  it('sends nothing back to an initiator that holds all the responder held, whatever reaches the responder meanwhile', async () => {
    // New writes reach the responder during the round: from a third peer (the initiator never sends
    // them), or from the initiator itself (it sends those it wrote before it scanned their bucket).
    for (const from of ['third', 'initiator'] as const) {
      const a = replica(ID.A)
      const b = replica(ID.B)
      const c = replica(ID.C)
      // b holds every other of a's 6,000 entries (something in every bucket), a all of them.
      for (let i = 0; i < 6_000; i++) {
        const update = a.save('c', `k${i}`, i, 0)
        if (i % 2 === 0) b.mergeEntry(update)
      }
      let written = 0
      const land = () => {
        for (let i = 0; i < 5; i++) b.mergeEntry((from === 'third' ? c : a).save('new', `w${written++}`, written, 0))
      }
      const { initiator, responder } = await round(context(a, { chunkEntries: 64 }), context(b), undefined, land)
      expect(written).toBeGreaterThan(200)
      // The initiator sends every entry of the buckets where b lacks one (about half of them).
      expect(initiator.sent).toBeGreaterThan(3_000)
      expect(responder.sent, from).toBe(0)
      expect(b.getArray('c')).toEqual(a.getArray('c'))
    }
  })

  it('exchanges a few hundred bytes between identical replicas, whatever their size', async () => {
    const a = replica(ID.A)
    const b = replica(ID.B)
    for (let i = 0; i < 20_000; i++) {
      const update = a.save('c', `key-${i}`, `value-${i}`, 0)
      b.mergeEntry(update)
    }
    const { initiator, bytes } = await round(context(a), context(b))
    expect(initiator.inSync).toBe(true)
    expect(bytes).toBeLessThan(1024)
  })

  it('sends only what differs, and back only what the initiator lacks', async () => {
    const a = replica(ID.A)
    const b = replica(ID.B)
    for (let i = 0; i < 5_000; i++) b.mergeEntry(a.save('c', `k${i}`, i, 0))
    a.save('c', 'only-a', 1, 0)
    b.save('c', 'only-b', 2, 0)
    const { initiator, responder } = await round(context(a), context(b))
    expect(a.get('c', 'only-b')).toBe(2)
    expect(b.get('c', 'only-a')).toBe(1)
    // Two buckets of ~1.2 entries each out of 4096: far fewer than 5,000 entries move.
    expect(initiator.sent + responder.sent).toBeLessThan(40)
    expect(responder.sent).toBeLessThan(initiator.sent + 5)
  })

  it('defers the transfer when told to and many buckets differ while writes arrive, and repairs once they stop', async () => {
    const a = replica(ID.A)
    const b = replica(ID.B)
    // B missed 2,000 of A's writes: about 1,600 of the 4,096 buckets differ.
    for (let i = 0; i < 2_000; i++) a.save('c', `k${i}`, i, 0)
    let arriving = 0
    const arrive = () => a.save('noise', `n${arriving++}`, arriving, 0)
    const scans = [vi.spyOn(a, 'scanBuckets'), vi.spyOn(b, 'scanBuckets')]
    const deferred = await round(context(a, { deferAbove: 256 }), context(b), arrive)
    expect(arriving).toBe(1)
    // Neither side walked its replica for buckets nobody wanted.
    for (const scan of scans) expect(scan).not.toHaveBeenCalled()
    for (const scan of scans) scan.mockRestore()
    expect(deferred.initiator).toMatchObject({ deferred: true, sent: 0, received: 0, inSync: false })
    expect(deferred.initiator.buckets).toBeGreaterThan(256)
    expect(deferred.responder).toMatchObject({ deferred: true, sent: 0, received: 0, buckets: 0 })
    expect(b.get('c', 'k0')).toBeNull()
    // The group hashes and leaves of differing groups, and nothing else: no entry moved.
    expect(deferred.aToB.updates + deferred.bToA.updates).toBe(0)
    expect(deferred.bytes).toBeLessThan(40_000)

    // The same round with nothing arriving meanwhile repairs everything.
    const repaired = await round(context(a, { deferAbove: 256 }), context(b))
    expect(repaired.initiator.deferred).toBe(false)
    expect(repaired.responder.deferred).toBe(false)
    expect(snapshot(b)).toBe(snapshot(a))
  })

  it('never defers without deferAbove, nor with fewer differing buckets than it', async () => {
    for (const [missed, deferAbove] of [
      [2_000, undefined],
      [100, 256]
    ] as const) {
      const a = replica(ID.A)
      const b = replica(ID.B)
      for (let i = 0; i < missed; i++) a.save('c', `k${i}`, i, 0)
      let arriving = 0
      const arrive = () => a.save('noise', `n${arriving++}`, arriving, 0)
      const { initiator, responder } = await round(context(a, { deferAbove }), context(b), arrive)
      expect(initiator.deferred).toBe(false)
      expect(responder.deferred).toBe(false)
      expect(b.getArray('c')).toEqual(a.getArray('c'))
    }
  })

  it('an initiator that caught up from another peer while it waited for its turn defers, moving no entry', async () => {
    // A joiner J opened a round with A and got A's LEAVES, then waited behind its catch-up from
    // another peer: by the time its turn comes it holds what A held and more A has since written.
    // A's LEAVES are as old as the wait, so every bucket written meanwhile would differ and go whole.
    const a = replica(ID.A)
    const j = replica(ID.J)
    for (let i = 0; i < 2_000; i++) a.save('c', `k${i}`, i, 0)
    const caughtUp = async () => true
    const stale = await round(context(j, { takeTurn: caughtUp }), context(a))
    expect(stale.initiator).toMatchObject({ deferred: true, sent: 0, received: 0, complete: true })
    expect(stale.responder).toMatchObject({ deferred: true, sent: 0, received: 0 })
    expect(stale.aToB.updates + stale.bToA.updates).toBe(0)
    // A turn that came with no catch-up meanwhile (the first in line) repairs as ever.
    const first = await round(context(j, { takeTurn: async () => false }), context(a))
    expect(first.initiator.deferred).toBe(false)
    expect(snapshot(j)).toBe(snapshot(a))
    // Stale LEAVES that show nothing differing once the catch-up is in (no write meanwhile) complete the round.
    const k = replica(ID.K)
    const idle = await round(context(k, { takeTurn: caughtUp }), context(a), () => {
      for (const e of a.entries()) k.mergeEntry(e)
    })
    expect(idle.initiator).toMatchObject({ deferred: false, complete: true, buckets: 0, sent: 0 })
  })

  it('a responder that caught up while the DIGEST waited for its turn asks for a fresh one, not sending leaves of what was written meanwhile', async () => {
    const a = replica(ID.A)
    const j = replica(ID.J)
    for (let i = 0; i < 2_000; i++) a.save('c', `k${i}`, i, 0)
    // j's turn comes once it caught up from another peer, and writes reached both meanwhile (gossip).
    const caughtUp = async () => {
      for (const e of a.entries()) j.mergeEntry(e)
      for (let i = 0; i < 500; i++) j.mergeEntry(a.save('new', `w${i}`, i, 0))
      return true
    }
    const { initiator, responder, bytes, bToA } = await round(context(a), context(j, { takeTurn: caughtUp }))
    expect(initiator).toMatchObject({ inSync: true, complete: true, sent: 0, received: 0 })
    expect(responder).toMatchObject({ inSync: true, complete: true })
    // STALE and empty LEAVES; the leaves of the groups written during the wait were 32 KB.
    expect(bToA.frames).toBe(2)
    expect(bytes).toBeLessThan(2_000)
    // A turn through which it did not catch up answers the DIGEST as it is.
    const k = replica(ID.K)
    const first = await round(context(a), context(k, { takeTurn: async () => false }))
    expect(first.bToA.frames).toBeGreaterThan(2)
    expect(snapshot(k)).toBe(snapshot(a))
  })

  it('refuses a second STALE in one round', async () => {
    const a = replica(ID.A)
    const stale: SyncMessage = { type: 'stale' }
    const inbox = (async function* () {
      yield stale
      yield stale
    })()
    const side = initiate(context(a), inbox, newResult())
    expect(decodeSyncMessage((await side.next()).value as Uint8Array, limits).type).toBe('digest')
    expect(decodeSyncMessage((await side.next()).value as Uint8Array, limits).type).toBe('digest')
    await expect(side.next()).rejects.toMatchObject({ code: ErrorCode.DECODE })
  })

  it('transfers everything to an empty joiner, whichever side opens the round', async () => {
    const full = replica(ID.A)
    for (let i = 0; i < 3_000; i++) full.save('c', `k${i}`, { i }, 0)
    full.increment('n', 5)
    const joiner = replica(ID.J)
    const { responder } = await round(context(joiner), context(full))
    expect(snapshot(joiner)).toBe(snapshot(full))
    expect(responder.sent).toBe(3_001)
    expect(joiner.counter('n')).toBe(5)

    // Opened by the full side: the joiner, once it holds what it received, sends nothing back.
    const other = replica(ID.K)
    const reverse = await round(context(full), context(other))
    expect(snapshot(other)).toBe(snapshot(full))
    expect(reverse.initiator.sent).toBe(3_001)
    expect(reverse.responder.sent).toBe(0)
  })

  it('sends a replica that fills every bucket as frames encoded straight from the store', async () => {
    const full = replica(ID.A)
    for (let i = 0; i < 40_000; i++) {
      const collection = i % 3 === 0 ? 'b' : 'a'
      if (i % 5 === 0) {
        // Written elsewhere: other writers, wide logical counters, expiries and tombstones.
        full.mergeEntry({
          collection,
          key: `é${i}`,
          wall: NOW - i,
          logical: i % 7 === 0 ? 2 ** 40 : 1,
          node: i % 2 === 0 ? ID.n2 : ID.n3,
          expiresAt: i % 10 === 0 ? NOW + DAY : 0,
          deleted: i % 15 === 0,
          value: i % 15 === 0 ? null : { i, s: 'x'.repeat(i % 50) }
        })
      } else full.save(collection, `k${i}`, i % 2 === 0 ? `v${i}` : [i, null, true], 0)
    }
    full.increment('n', 5)
    const bulk = vi.spyOn(full, 'encodeEverything')
    const big = { chunkEntries: 2048, chunkBytes: 512 * 1024, scanBatch: 4096, window: 16 }
    for (const fullOpens of [false, true]) {
      const joiner = replica(fullOpens ? ID.K : ID.J)
      const r = fullOpens
        ? await round(context(full, big), context(joiner, big))
        : await round(context(joiner, big), context(full, big))
      expect(snapshot(joiner)).toBe(snapshot(full))
      expect(joiner.digest.root()).toBe(full.digest.root())
      expect(fullOpens ? r.initiator.sent : r.responder.sent).toBe(40_001)
      // The round's other frames, and six more while the first frames grow to the limit (store/scan.ts).
      expect((fullOpens ? r.aToB : r.bToA).frames).toBeLessThan(40_000 / 2048 + 6 + 6)
    }
    expect(bulk).toHaveBeenCalledTimes(2)
  })

  it('gives the event loop a turn every few milliseconds while a slow merge goes on', async () => {
    const full = replica(ID.A)
    for (let i = 0; i < 2000; i++) full.save('c', `k${i}`, i, 0)
    const joiner = replica(ID.J)
    const merge = joiner.mergeBatch.bind(joiner)
    let turns = 0
    const turnOfCall: number[] = []
    // 64 entries take 2 ms, as code V8 has not compiled yet might.
    vi.spyOn(joiner, 'mergeBatch').mockImplementation((...args) => {
      turnOfCall.push(turns)
      const until = performance.now() + 2
      while (performance.now() < until) {}
      return merge(...args)
    })
    let ticker = setImmediate(function tick() {
      turns++
      ticker = setImmediate(tick)
    })
    try {
      const big = { chunkEntries: 512, chunkBytes: 512 * 1024, scanBatch: 4096, window: 16 }
      await round(context(joiner, big), context(full, big))
    } finally {
      clearImmediate(ticker)
    }
    expect(joiner.digest.root()).toBe(full.digest.root())
    const callsPerTurn = new Map<number, number>()
    for (const turn of turnOfCall) callsPerTurn.set(turn, (callsPerTurn.get(turn) ?? 0) + 1)
    // Each slice ends once 4 ms have passed: after its second call of 2 ms (its third, when the clock is coarse).
    expect(Math.max(...callsPerTurn.values())).toBeLessThanOrEqual(3)
    expect(turnOfCall.length).toBeGreaterThanOrEqual(2000 / 64)
  })

  it('a lone peer that never synced keeps its old data when a newcomer joins', async () => {
    let now = NOW
    const lone = replica(ID.L, () => now)
    lone.save('c', 'k', 'v', 0)
    now += 3 * DAY
    const newcomer = replica(ID.C, () => now)
    await round(context(newcomer), context(lone))
    expect(newcomer.get('c', 'k')).toBe('v')
    expect(lone.get('c', 'k')).toBe('v')
  })

  it('fails at once (ERR_REMOTE) when the other side ends its stream at any point before the round ends', async () => {
    // A peer that dies mid-round closes its stream cleanly: ending quietly left the round's last
    // write waiting for a reader that was gone, holding the catch-up turn until the time limit.
    const full = replica(ID.A)
    for (let i = 0; i < 60; i++) full.save('c', `k${i}`, `v${i}`, 0)
    // The frames each side sends in a whole round, counted on one run.
    const whole = await round(context(full), context(replica(ID.B)))
    const counts = { initiator: whole.aToB.frames, responder: whole.bToA.frames }
    expect(counts.initiator).toBeGreaterThan(3)
    for (const cut of ['initiator', 'responder'] as const) {
      for (let k = 0; k < counts[cut]; k++) {
        const a = context(full)
        const b = context(replica(ID.B))
        const aToB = channel()
        const bToA = channel()
        /** The first k frames of `side`, then the end of its stream. */
        async function* cutAfter(side: AsyncGenerator<Uint8Array>): AsyncGenerator<Uint8Array> {
          let sent = 0
          for await (const frame of side) {
            if (sent++ === k) return
            yield frame
          }
        }
        const initiator = initiate(a, bToA.inbox(), newResult())
        const responder = respond(b, aToB.inbox(), newResult())
        const [ends, other] =
          cut === 'initiator'
            ? [aToB.pump(cutAfter(initiator)), bToA.pump(responder)]
            : [bToA.pump(cutAfter(responder)), aToB.pump(initiator)]
        await ends
        await expect(other, `${cut} cut after ${k} frames`).rejects.toThrowError(
          expect.objectContaining({ code: 'ERR_REMOTE' })
        )
      }
    }
  })

  it('refuses a round with a member retired here (quarantine), merging nothing', async () => {
    let now = NOW
    const clock = () => now
    const a = replica(ID.A, clock)
    const b = replica(ID.B, clock)
    const aCtx = context(a, { membership: new Membership({ self: ID.A, memberTimeout: DAY, now: clock }) })
    const bCtx = context(b)
    aCtx.membership.merge(ID.B, bCtx.membership.row(), now)
    now += 2 * DAY
    aCtx.membership.tick()
    expect(aCtx.membership.status().retired).toEqual([ID.B])
    b.save('c', 'old', 'v', 0)
    await expect(round(bCtx, aCtx)).rejects.toThrowError(expect.objectContaining({ code: 'ERR_REMOTE' }))
    expect(a.get('c', 'old')).toBeNull()
    expect(aCtx.membership.status().refused).toBe(1)
  })

  it('keeps at most `window` frames unacknowledged, however far the receiver falls behind', async () => {
    const full = replica(ID.A)
    for (let i = 0; i < 2_000; i++) full.save('c', `k${i}`, `v${i}`, 0)
    const flow = await round(context(full, { window: 3 }), context(replica(ID.J), { window: 3 }))
    expect(flow.initiator.sent).toBe(2_000)
    // At most the window (a receiver that takes the next frame before acknowledging may hold it lower).
    expect(flow.aToB.maxQueuedUpdates).toBeGreaterThan(0)
    expect(flow.aToB.maxQueuedUpdates).toBeLessThanOrEqual(3)
    // The same round under a window wider than the round queues far more: the test can tell.
    const wide = await round(context(full, { window: 1_000 }), context(replica(ID.K), { window: 1_000 }))
    expect(wide.aToB.maxQueuedUpdates).toBeGreaterThan(20)

    // Both directions: the joiner opens, the full side streams back under the joiner's acknowledgements.
    const back = await round(context(replica(ID.L), { window: 3 }), context(full, { window: 3 }))
    expect(back.responder.sent).toBe(2_000)
    expect(back.bToA.maxQueuedUpdates).toBeGreaterThan(0)
    expect(back.bToA.maxQueuedUpdates).toBeLessThanOrEqual(3)
  })

  it('acknowledges several merged frames at once while more are queued, and never leaves a sender waiting', async () => {
    const full = replica(ID.A)
    for (let i = 0; i < 2_000; i++) full.save('c', `k${i}`, `v${i}`, 0)
    for (const window of [1, 2, 16]) {
      const flow = await round(context(full, { window }), context(replica(ID.J), { window }))
      expect(flow.initiator.sent).toBe(2_000)
      // Every frame is acknowledged.
      expect(flow.aToB.updates).toBeGreaterThan(100)
      expect(flow.bToA.acknowledged).toBe(flow.aToB.updates)
      if (window === 16) expect(flow.bToA.acks).toBeLessThan(flow.bToA.acknowledged / 2)
    }
  })

  it('rejects an acknowledgement of frames never sent', async () => {
    async function* inbox(): AsyncGenerator<SyncMessage> {
      yield { type: 'digest', swarm: 's', row: [['X', 0]], groups: new Uint32Array(128).fill(1) }
      yield { type: 'request', mask: new Uint8Array(4096).fill(1) }
      yield { type: 'ack', frames: 1 }
    }
    const responder = respond(context(replica(ID.B)), inbox(), newResult())
    await expect(
      (async () => {
        for await (const _ of responder);
      })()
    ).rejects.toThrowError(expect.objectContaining({ code: 'ERR_DECODE' }))
  })

  it('rejects a digest from another swarm', async () => {
    await expect(round(context(replica(ID.A)), context(replica(ID.B), { swarm: 'other' }))).rejects.toThrowError(
      expect.objectContaining({ code: 'ERR_DECODE' })
    )
  })
})
