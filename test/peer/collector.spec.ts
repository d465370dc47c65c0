/**
 * The collector's schedule (src/peer/collector.ts): besides collecting on its interval, it moves
 * the digest's line at each moment the line is due, in slices, without waiting for a sync round
 * or status() to read the digest.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { Collector } from '../../src/peer/collector.js'
import { Digest, digestEpoch, hashEntry } from '../../src/store/digest.js'
import { Replica } from '../../src/store/replica.js'
import { nextLineMove } from '../../src/store/tally.js'
import type { Membership } from '../../src/sync/membership.js'
import { PEER_IDS } from '../fixtures/entries.js'

const NOW = 1_700_000_000_500
const TTL = 1000
const EPOCH = digestEpoch(TTL)

/** The root of the digest of what `r` holds, counted afresh at `now`'s line. */
function fromScratch(r: Replica, now: number): string {
  const line = Math.floor((now - TTL) / EPOCH) * EPOCH
  const digest = new Digest()
  for (const e of r.entries()) {
    const died = e.deleted ? e.wall : e.expiresAt
    if (died === 0 || died >= line) digest.toggle(hashEntry(e))
  }
  return digest.root()
}

/** What the collector reads of the membership: no member, so the watermark is now. */
function alone(now: () => number): Membership {
  return { tick: () => {}, watermark: () => now() } as unknown as Membership
}

/** A replica on the clock `now`, and its collector (collecting once an hour), not started. */
function parts(now: () => number, tombstoneTtl = TTL): { r: Replica; collector: Collector } {
  const node = PEER_IDS[0]
  const r = new Replica({ node, slot: `${node}/1`, clock: new Clock({ now, maxSkew: TTL }), tombstoneTtl })
  const collector = new Collector({
    replica: r,
    membership: alone(now),
    interval: 3_600_000,
    maxSkew: TTL,
    tombstoneTtl,
    running: () => true
  })
  return { r, collector }
}

afterEach(() => {
  vi.useRealTimers()
})

describe("the collector and the digest's line", () => {
  it('moves the line when it is due, untouched by any reader, and again at the next moment', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let now = NOW
    const { r, collector } = parts(() => now)
    for (let i = 0; i < 2_000; i++) r.save('c', `k${i}`, i, now + 10 + (i % 700))
    const before = r.digest.root()
    collector.start()
    // The entries die within the first second; the line passes them two seconds later.
    const due = nextLineMove(nextLineMove(NOW + 710, TTL), TTL)
    while (now < due) {
      const step = Math.min(100, due - now)
      now += step
      vi.advanceTimersByTime(step)
    }
    vi.advanceTimersByTime(100)
    expect(r.digest.root()).not.toBe(before)
    expect(r.digest.root()).toBe(new Digest().root())
    expect(r.digest.root()).toBe(fromScratch(r, now))
    // One timer for the next move, one for the next collection; stop clears both.
    expect(vi.getTimerCount()).toBe(2)
    collector.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('meets a clock moved forward within an epoch', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    // The clock jumps three epochs after the start: the line's timer, set for the next moment by
    // the clock before, wakes within an epoch and moves the line to the clock's.
    let now = NOW
    const { r, collector } = parts(() => now)
    r.save('c', 'k', 1, now + 10)
    collector.start()
    now += 3 * EPOCH
    vi.advanceTimersByTime(EPOCH)
    expect(r.digest.root()).toBe(fromScratch(r, now))
    collector.stop()
  })

  it('sets no timer for a line that never moves, nor one that fires again at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    for (const tombstoneTtl of [Number.POSITIVE_INFINITY, Number.MAX_VALUE]) {
      let now = NOW
      const { r, collector } = parts(() => now, tombstoneTtl)
      r.save('c', 'k', 1, 0)
      let moves = 0
      const ageDigestStepwise = r.ageDigestStepwise.bind(r)
      r.ageDigestStepwise = (batch: number, at?: number) => {
        moves++
        return ageDigestStepwise(batch, at)
      }
      collector.start()
      for (let i = 0; i < 100; i++) {
        now += 10
        vi.advanceTimersByTime(10)
      }
      // A second of running: no scan begun at every turn (a minute's epoch).
      expect(moves).toBeLessThanOrEqual(2)
      collector.stop()
      expect(vi.getTimerCount()).toBe(0)
    }
  })
})
