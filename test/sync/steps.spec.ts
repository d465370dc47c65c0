/**
 * The protocol steps one by one, as plain functions of (message, context) → reply: no
 * stream, no generator, a received message decoded from the reply the other side's step
 * returned. The deferral policy and the typed map of running rounds beside them.
 */
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { decodeSyncMessage, type SyncMessage } from '../../src/codec/sync.js'
import { ErrorCode } from '../../src/errors.js'
import { BUCKETS, Digest } from '../../src/store/digest.js'
import { Replica } from '../../src/store/replica.js'
import { newResult, type SessionContext, type SessionResult } from '../../src/sync/context.js'
import { DEFER_BUCKETS, Deferrals, MAX_DEFERRALS } from '../../src/sync/deferral.js'
import { Membership } from '../../src/sync/membership.js'
import { RoundLeaves } from '../../src/sync/round-leaves.js'
import { Rounds } from '../../src/sync/rounds.js'
import { answerDigest, answerLeaves, bucketsToReturn, openRound, takeRequest } from '../../src/sync/steps.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

const NOW = 1_700_000_000_000
const DAY = 86_400_000
const [A, B] = PEER_IDS

function context(node: string, extra: Partial<SessionContext> = {}): SessionContext {
  const replica = new Replica({
    node,
    slot: `${node}/1`,
    clock: new Clock({ now: () => NOW, maxSkew: DAY }),
    tombstoneTtl: DAY
  })
  return {
    replica,
    swarm: 's',
    chunkEntries: 7,
    chunkBytes: 256,
    scanBatch: 5,
    window: 2,
    membership: new Membership({ self: node, memberTimeout: DAY, now: replica.clock.now }),
    now: replica.clock.now,
    ...extra
  }
}

function decoded<T extends SyncMessage['type']>(frame: Uint8Array, type: T): Extract<SyncMessage, { type: T }> {
  const msg = decodeSyncMessage(frame, limits)
  expect(msg.type).toBe(type)
  return msg as Extract<SyncMessage, { type: T }>
}

/** The first three steps between `a` (initiator) and `b`; `meanwhile` runs between a's DIGEST and its reading of the LEAVES. */
function exchange(a: SessionContext, b: SessionContext, meanwhile?: () => void) {
  const ra = newResult()
  const rb = newResult()
  const opened = openRound(a, ra)
  const leaves = decoded(answerDigest(b, decoded(opened.reply, 'digest'), rb), 'leaves')
  meanwhile?.()
  const request = answerLeaves(a, opened.groups, leaves, ra)
  return { ra, rb, leaves, request }
}

describe('sync protocol steps', () => {
  it('identical replicas: the LEAVES list no group, and both sides are complete and in sync', () => {
    const a = context(A)
    const b = context(B)
    for (let i = 0; i < 100; i++) b.replica.mergeEntry(a.replica.save('c', `k${i}`, i, 0))
    const { ra, rb, leaves, request } = exchange(a, b)
    expect(leaves.groups).toEqual([])
    expect(request).toBeUndefined()
    for (const r of [ra, rb]) expect(r).toMatchObject({ inSync: true, complete: true, startedAt: NOW })
    // Each side has the other's member row, its sender first.
    expect(ra.remoteRow[0][0]).toBe(B)
    expect(rb.remoteRow[0][0]).toBe(A)
  })

  it('requests exactly the buckets whose leaves differ', () => {
    const a = context(A)
    const b = context(B)
    b.replica.save('c', 'only-b', 1, 0)
    a.replica.save('c', 'only-a', 2, 0)
    const { ra, request } = exchange(a, b)
    const mask = request?.mask as Uint8Array
    const expected = new Uint8Array(BUCKETS)
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const [mine, theirs] = [a.replica.digest.leaves, b.replica.digest.leaves]
      if (mine[bucket * 2] !== theirs[bucket * 2] || mine[bucket * 2 + 1] !== theirs[bucket * 2 + 1])
        expected[bucket] = 1
    }
    expect(mask).toEqual(expected)
    expect(ra.buckets).toBe(expected.reduce((n, x) => n + x, 0))
    expect(ra.buckets).toBeGreaterThan(0)
    expect(decoded(request?.reply as Uint8Array, 'request').mask).toEqual(mask)
    expect(ra).toMatchObject({ deferred: false, inSync: false, complete: false })
  })

  it('defers above its threshold only when writes arrived during the digest exchange', () => {
    const arrive = (ctx: SessionContext) => () => ctx.replica.save('noise', 'n', 1, 0)
    for (const [threshold, writes, defers] of [
      [10, true, true],
      [10, false, false],
      [10_000, true, false],
      [undefined, true, false]
    ] as const) {
      const a = context(A, { deferAbove: threshold })
      for (let i = 0; i < 200; i++) a.replica.save('c', `k${i}`, i, 0)
      const { ra, request } = exchange(a, context(B), writes ? arrive(a) : undefined)
      expect(ra.buckets).toBeGreaterThan(10)
      expect(ra.deferred).toBe(defers)
      expect(request?.mask.some((x) => x !== 0)).toBe(!defers)
    }
  })

  it('a responder takes an empty request after differing groups as a deferred round', () => {
    const rb = newResult()
    expect(takeRequest({ type: 'request', mask: new Uint8Array(BUCKETS) }, rb)).toHaveLength(BUCKETS)
    expect(rb).toMatchObject({ buckets: 0, deferred: true })
    const some = new Uint8Array(BUCKETS)
    some[7] = some[99] = 1
    const rc = newResult()
    expect(takeRequest({ type: 'request', mask: some }, rc)).toBe(some)
    expect(rc).toMatchObject({ buckets: 2, deferred: false })
  })

  it('refuses a digest from another swarm and a row of another peer than the stream', () => {
    const a = context(A, { swarm: 'other' })
    const digest = decoded(openRound(a, newResult()).reply, 'digest')
    expect(() => answerDigest(context(B), digest, newResult())).toThrowError(
      expect.objectContaining({ code: ErrorCode.DECODE })
    )
    const own = decoded(openRound(context(A), newResult()).reply, 'digest')
    expect(() => answerDigest(context(B, { remote: PEER_IDS[2] }), own, newResult())).toThrowError(
      expect.objectContaining({ code: ErrorCode.DECODE })
    )
  })

  it('sends back only the requested buckets that still differ once the initiator’s entries are merged', () => {
    const b = context(B)
    const update = b.replica.save('c', 'k', 1, 0)
    const received = new Digest()
    const requested = new Uint8Array(BUCKETS).fill(1)
    // Nothing received: every requested bucket where b holds something goes back.
    const back = bucketsToReturn(requested, received, new RoundLeaves(b.replica.digest.leaves), b.replica.digest.leaves)
    expect(back.reduce((n, x) => n + x, 0)).toBe(1)
    // Received what b holds there: nothing goes back.
    const other = context(A)
    other.replica.mergeEntry(update)
    expect(
      bucketsToReturn(
        requested,
        other.replica.digest,
        new RoundLeaves(b.replica.digest.leaves),
        b.replica.digest.leaves
      ).every((x) => x === 0)
    ).toBe(true)
    // Not requested: never goes back.
    expect(
      bucketsToReturn(
        new Uint8Array(BUCKETS),
        received,
        new RoundLeaves(b.replica.digest.leaves),
        b.replica.digest.leaves
      ).every((x) => x === 0)
    ).toBe(true)
  })
})

describe('sync deferral policy', () => {
  const deferred: SessionResult = { ...newResult(), deferred: true, complete: true }
  const repaired: SessionResult = { ...newResult(), complete: true }

  it('lets periodic rounds defer at most MAX_DEFERRALS in a row, and other rounds never', () => {
    const policy = new Deferrals()
    expect(policy.threshold(false)).toBeUndefined()
    for (let i = 0; i < MAX_DEFERRALS; i++) {
      expect(policy.threshold(true)).toBe(DEFER_BUCKETS)
      policy.record('initiator', deferred)
    }
    expect(policy.threshold(true)).toBeUndefined()
    // Rounds the other side deferred, and failed ones, neither add to the run nor end it.
    policy.record('responder', deferred)
    policy.record('initiator', newResult())
    expect(policy.threshold(true)).toBeUndefined()
    // A round that ran to its end without deferring, in either role, ends it.
    policy.record('responder', repaired)
    expect(policy.threshold(true)).toBe(DEFER_BUCKETS)
  })
})

describe('running sync rounds', () => {
  function pending() {
    let settle: (fail: boolean) => void = () => {}
    const promise = new Promise<SessionResult>((resolve, reject) => {
      settle = (fail) => (fail ? reject(new Error('failed')) : resolve(newResult()))
    })
    return { promise, settle }
  }

  it('finds the round this peer opened first, else the earliest the other opened, and forgets settled ones', async () => {
    const rounds = new Rounds()
    const in1 = pending()
    const in2 = pending()
    const out = pending()
    const tracked1 = rounds.track(A, 'in', () => in1.promise)
    rounds.track(A, 'in', () => in2.promise).round.catch(() => {})
    expect(rounds.with(A)).toBe(tracked1)
    expect(rounds.with(B)).toBeUndefined()
    const trackedOut = rounds.track(A, 'out', () => out.promise)
    expect(rounds.with(A)).toBe(trackedOut)
    out.settle(false)
    await trackedOut.round
    expect(rounds.with(A)).toBe(tracked1)
    in1.settle(true)
    await expect(tracked1.round).rejects.toThrow('failed')
    expect(rounds.with(A)).not.toBe(tracked1)
    expect(rounds.with(A)).toBeDefined()
    const all = rounds.settled()
    in2.settle(false)
    await all
    expect(rounds.with(A)).toBeUndefined()
  })

  it('a round this peer opened covers the requests made before it opened; one the other opened covers none', async () => {
    const rounds = new Rounds()
    const before = rounds.ask()
    let mark = (): void => {}
    const out = rounds.track(A, 'out', (opened) => {
      mark = opened
      return pending().promise
    })
    const whileDialling = rounds.ask()
    expect(out.covers).toBeLessThan(before)
    mark()
    const after = rounds.ask()
    expect(out.covers).toBeGreaterThanOrEqual(whileDialling)
    expect(out.covers).toBeLessThan(after)
    const inbound = rounds.track(B, 'in', (opened) => {
      opened()
      return pending().promise
    })
    expect(inbound.covers).toBeLessThan(before)
  })
})
