/**
 * Counters with resets and windows, as a rate limiter stands on them: a reset
 * cancels exactly the increments its replica had seen (those made concurrently
 * elsewhere still count), a window's counter reads 0 from its deadline on and the
 * next increment starts afresh, and every replica converges to the same value
 * and digest whatever order the slots arrive in.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { Replica } from '../../src/store/replica.js'
import type { CounterUpdate } from '../../src/store/types.js'

const NOW = 1_700_000_000_000
const TTL = 60_000

function replica(node: string, now: () => number = () => NOW): Replica {
  return new Replica({ node, slot: `${node}/1`, clock: new Clock({ now, maxSkew: 60_000 }), tombstoneTtl: TTL })
}

/** What a replica holds of counter `n`: its value and digest. */
function held(r: Replica): { value: number; digest: string } {
  return { value: r.counter('n'), digest: r.digest.root() }
}

type Op = { inc: number; at: number; by: number } | { reset: number } | { from: number; to: number }

const REPLICAS = 3
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ inc: fc.nat(REPLICAS - 1), at: fc.nat(REPLICAS - 1), by: fc.integer({ min: -5, max: 9 }) })
  },
  { weight: 1, arbitrary: fc.record({ reset: fc.nat(REPLICAS - 1) }) },
  { weight: 3, arbitrary: fc.record({ from: fc.nat(REPLICAS - 1), to: fc.nat(REPLICAS - 1) }) }
)

describe('counter resets', () => {
  it('cancel exactly what their replica had seen, on every replica, in every delivery order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.nat(), (ops, seed) => {
        const replicas = Array.from({ length: REPLICAS }, (_, i) => replica(`p${i}`))
        // The model: each slot's running totals, what each replica has seen of them, and what resets cancelled.
        const totals = Array.from({ length: REPLICAS }, () => ({ inc: 0, dec: 0 }))
        const seen = replicas.map(() => totals.map(() => ({ inc: 0, dec: 0 })))
        const cancelled = totals.map(() => ({ inc: 0, dec: 0 }))
        const sent: CounterUpdate[] = []
        for (const o of ops) {
          if ('inc' in o) {
            const r = o.inc
            sent.push(replicas[r].increment('n', o.by).update)
            if (o.by > 0) totals[r].inc += o.by
            else totals[r].dec -= o.by
            seen[r][r] = { ...totals[r] }
          } else if ('reset' in o) {
            sent.push(...replicas[o.reset].resetCounter('n'))
            seen[o.reset].forEach((s, slot) => {
              cancelled[slot].inc = Math.max(cancelled[slot].inc, s.inc)
              cancelled[slot].dec = Math.max(cancelled[slot].dec, s.dec)
            })
          } else {
            for (const slot of [...replicas[o.from].counterSlots()]) replicas[o.to].mergeCounter(slot)
            seen[o.to] = seen[o.to].map((s, slot) => ({
              inc: Math.max(s.inc, seen[o.from][slot].inc),
              dec: Math.max(s.dec, seen[o.from][slot].dec)
            }))
          }
        }
        const expected = totals.reduce(
          (sum, t, slot) => sum + (t.inc - cancelled[slot].inc) - (t.dec - cancelled[slot].dec),
          0
        )
        // Every slot ever sent, shuffled and some twice, into a fresh replica; and every replica gets all.
        const shuffled = [...sent, ...sent.slice(0, seed % (sent.length + 1))]
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (seed + i * 7919) % (i + 1)
          ;[shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
        }
        const fresh = replica('fresh')
        for (const u of shuffled) fresh.mergeCounter(u)
        for (const r of replicas) for (const u of shuffled) r.mergeCounter(u)
        expect(held(fresh).value, `seed ${seed}`).toBe(expected)
        for (const r of replicas) expect(held(r)).toEqual(held(fresh))
      }),
      { numRuns: 300 }
    )
  })

  it('keep an increment made concurrently elsewhere, and bring back none they saw', () => {
    const a = replica('a')
    const b = replica('b')
    const five = a.increment('n', 5).update
    b.mergeCounter(five)
    const three = b.increment('n', 3).update
    const reset = a.resetCounter('n')
    expect(a.counter('n')).toBe(0)
    a.mergeCounter(three)
    expect(a.counter('n')).toBe(3)
    for (const u of reset) b.mergeCounter(u)
    // b had seen a's five before a reset it: gone there too; its own three, unseen by a, stays.
    expect(b.counter('n')).toBe(3)
    a.mergeCounter(five)
    expect(held(a)).toEqual(held(b))
  })
})

describe('counter windows', () => {
  it('read 0 from the deadline on, and the next increment starts a new window at its own amount', () => {
    let now = NOW
    const a = replica('a', () => now)
    const b = replica('b', () => now)
    const sync = () => {
      for (const u of [...a.counterSlots()]) b.mergeCounter(u)
      for (const u of [...b.counterSlots()]) a.mergeCounter(u)
    }
    a.increment('n', 4, NOW + 1000)
    b.increment('n', 2) // b has not seen a's window: its slot counts in the first one
    sync()
    expect([a.counter('n'), b.counter('n')]).toEqual([4, 4])
    // A running window keeps its deadline, whatever a later increment asks.
    b.increment('n', 1, NOW + 50_000)
    sync()
    expect(a.counter('n')).toBe(5)
    now = NOW + 1000
    expect([a.counter('n'), b.counter('n')]).toEqual([0, 0])
    expect(b.increment('n', 1, now + 1000).value).toBe(1)
    // a's slot of the ended window arrives late at a fresh replica, after the new window's: ignored.
    const late = replica('c', () => now)
    for (const u of [...b.counterSlots()]) late.mergeCounter(u)
    for (const u of [...a.counterSlots()]) late.mergeCounter(u)
    expect(late.counter('n')).toBe(1)
    sync()
    expect([a.counter('n'), b.counter('n'), late.counter('n')]).toEqual([1, 1, 1])
    expect(held(a)).toEqual(held(late))
    now = NOW + 2000
    expect(a.increment('n', 1).value).toBe(1)
  })

  it('are collected past the tombstone horizon, and a slot of a dead window is then refused', () => {
    let now = NOW
    const a = replica('a', () => now)
    const { update } = a.increment('n', 7, NOW + 1000)
    now = NOW + 1000 + 2 * TTL
    expect(a.collect()).toBe(1)
    expect(a.counterNames()).toEqual([])
    expect(a.mergeCounter(update)).toBe(false)
    expect(a.counter('n')).toBe(0)
    // A counter without a deadline is never collected.
    a.increment('m', 1)
    now += 10 * TTL
    a.collect()
    expect(a.counter('m')).toBe(1)
  })

  it('leave the digest as it was when collected, as entries do', () => {
    let now = NOW
    const a = replica('a', () => now)
    const b = replica('b', () => now)
    for (const u of [a.increment('n', 2, NOW + 500).update]) b.mergeCounter(u)
    now = NOW + 500 + 2 * TTL
    a.collect()
    b.ageDigest()
    expect(a.digest.root()).toBe(b.digest.root())
  })

  it('refuse a window opened too far ahead, and order a window opened later after a received one', () => {
    const a = replica('a')
    const ahead = {
      counter: 'n',
      slot: 'x/1',
      inc: 9,
      dec: 0,
      window: { wall: NOW + 3_600_000, logical: 0, node: 'x', expiresAt: NOW + 3_700_000 }
    }
    expect(a.mergeCounter(ahead)).toBe(false)
    expect(a.counter('n')).toBe(0)
    // A window from a clock a little ahead (within the skew) is taken, and the clock follows it.
    const near = { ...ahead, window: { wall: NOW + 30_000, logical: 0, node: 'x', expiresAt: NOW + 30_001 } }
    expect(a.mergeCounter(near)).toBe(true)
    expect(a.clock.tick().wall).toBeGreaterThanOrEqual(NOW + 30_000)
  })

  it('take a newer window dead past the horizon over an older one held, so no replaced count comes back', () => {
    let now = NOW
    const r = replica('r', () => now)
    const a = replica('a', () => now)
    // Cut apart, r opens a long window, then a opens a short one, stamped later.
    const long = r.increment('n', 7, NOW + 100 * TTL).update
    now += 1
    const short = a.increment('n', 1, now + 1).update
    now += 2 * TTL
    // The digest's line moves (as before every sync round): the short window is past it.
    r.ageDigest()
    a.ageDigest()
    r.mergeCounter(short)
    a.mergeCounter(long)
    expect([r.counter('n'), a.counter('n')]).toEqual([0, 0])
    expect(r.digest.root()).toBe(a.digest.root())
  })
  it('keep the window they hold when a slot comes under the same stamp with another deadline', () => {
    // Never sent by an honest peer: a window's deadline is fixed by the write that opened it.
    const a = replica('a')
    const window = { wall: NOW - 10, logical: 0, node: 'p', expiresAt: NOW + 100_000 }
    a.mergeCounter({ counter: 'n', slot: 'p/1', inc: 5, dec: 0, window })
    a.mergeCounter({ counter: 'n', slot: 'q/1', inc: 7, dec: 0, window })
    a.mergeCounter({ counter: 'n', slot: 'p/1', inc: 6, dec: 0, window: { ...window, expiresAt: NOW - 1 } })
    expect(a.counter('n')).toBe(13)
    // What it holds, and so what its digest counts, is what a replica sent its slots holds.
    const b = replica('b')
    for (const slot of a.counterSlots()) b.mergeCounter(slot)
    expect([...b.counterSlots()]).toEqual([...a.counterSlots()])
    expect(held(b).digest).toBe(held(a).digest)
  })
})

describe('many counters', () => {
  it('each keep their own slots and window through growth, collection and exchange', () => {
    let now = NOW
    const a = replica('a', () => now)
    const b = replica('b', () => now)
    const N = 5_000
    // Every counter has a's slot; every third b's too; every fifth a window that ends.
    for (let i = 0; i < N; i++) a.increment(`c${i}`, i + 1, i % 5 === 0 ? NOW + 10 : 0)
    for (const u of [...a.counterSlots()]) b.mergeCounter(u)
    for (let i = 0; i < N; i += 3) b.increment(`c${i}`, -2)
    for (const u of [...b.counterSlots()]) a.mergeCounter(u)
    const want = (i: number) => i + 1 - (i % 3 === 0 ? 2 : 0)
    for (let i = 0; i < N; i++) expect([a.counter(`c${i}`), b.counter(`c${i}`)], `c${i}`).toEqual([want(i), want(i)])
    expect(held(a).digest).toBe(held(b).digest)
    expect(new Set(a.counterNames())).toEqual(new Set(Array.from({ length: N }, (_, i) => `c${i}`)))
    // The windows that ended go at collection; the others stay, each with its value.
    now = NOW + 10 + 2 * TTL
    expect(a.collect()).toBe(N / 5)
    for (let i = 0; i < N; i++) expect(a.counter(`c${i}`), `c${i}`).toBe(i % 5 === 0 ? 0 : want(i))
    expect(a.counterNames().length).toBe(N - N / 5)
    expect([...a.counterSlots()].length).toBe(
      [...b.counterSlots()].filter((s) => !s.counter.endsWith('0') && !s.counter.endsWith('5')).length
    )
  })

  it('are collected a batch at a time, with increments between the batches, as in one go', () => {
    let now = NOW
    const a = replica('a', () => now)
    const b = replica('b', () => now)
    const N = 3_000
    for (let i = 0; i < N; i++) a.increment(`c${i}`, 1, i % 2 === 0 ? NOW + 10 : 0)
    for (const u of [...a.counterSlots()]) b.mergeCounter(u)
    now = NOW + 10 + 2 * TTL
    const steps: number[] = []
    let dropping = 0
    for (const dropped of a.collectStepwise(100)) {
      steps.push(dropped)
      // Meanwhile (the digest's line moved, in steps too, and the third batch that dropped some
      // counters done), a counter whose window ended is counted anew, and one that stays goes on.
      if (dropped > 0 && ++dropping === 3) for (const x of ['c0', 'c1']) b.mergeCounter(a.increment(x, 1).update)
    }
    expect(dropping).toBeGreaterThan(3)
    // Counters are scanned 100 at a time, before the entries' own pass.
    expect(steps.length).toBeGreaterThanOrEqual(N / 100)
    expect(steps.at(-1)).toBe(b.collect())
    expect([a.counter('c0'), a.counter('c1'), a.counter('c2')]).toEqual([1, 2, 0])
    // c0 counted anew reached b while b still held its ended window, which outranks a new counter's:
    // b takes it from the next sync round, which sends what differs.
    expect(b.counter('c0')).toBe(0)
    for (const u of [...a.counterSlots()]) b.mergeCounter(u)
    expect(held(a).digest).toBe(held(b).digest)
  })
})
