/**
 * Counters at the edge of the safe integers: exact inside, refused beyond, and equal on
 * every replica that holds the same slots (the same digest), whatever order the slots
 * arrived in — even when another peer published totals whose sum no double holds exactly.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { ErrorCode } from '../../src/errors.js'
import { Replica } from '../../src/store/replica.js'
import type { CounterUpdate } from '../../src/store/types.js'

const MAX = Number.MAX_SAFE_INTEGER

function replica(node = 'self'): Replica {
  return new Replica({
    node,
    slot: `${node}/x`,
    clock: new Clock({ now: () => 1_700_000_000_000, maxSkew: 60_000 }),
    tombstoneTtl: 1000
  })
}

const total = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: MAX - 100, max: MAX }),
  fc.integer({ min: 2 ** 52 - 100, max: 2 ** 52 + 100 })
)
const slot: fc.Arbitrary<CounterUpdate> = fc.record({
  counter: fc.constant('n'),
  slot: fc.constantFrom('a/1', 'b/1', 'c/1', 'd/2'),
  inc: total,
  dec: total
})

describe('counters near 2^53', () => {
  it('replicas with equal digests show equal values, in any delivery order', () => {
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 12 }), fc.nat(), (updates, seed) => {
        const a = replica('a')
        const b = replica('b')
        for (const u of updates) a.mergeCounter(u)
        // The same updates in another order (a rotation and a reversal, drawn from the seed).
        const cut = updates.length === 0 ? 0 : seed % updates.length
        for (const u of [...updates.slice(cut), ...updates.slice(0, cut)].reverse()) b.mergeCounter(u)
        expect(b.digest.root()).toBe(a.digest.root())
        expect(b.counter('n')).toBe(a.counter('n'))
        // And the value is the exact sum, rounded once.
        const best = new Map<string, { inc: number; dec: number }>()
        for (const u of updates) {
          const s = best.get(u.slot) ?? { inc: 0, dec: 0 }
          best.set(u.slot, { inc: Math.max(s.inc, u.inc), dec: Math.max(s.dec, u.dec) })
        }
        let exact = 0n
        for (const s of best.values()) exact += BigInt(s.inc) - BigInt(s.dec)
        expect(a.counter('n')).toBe(Number(exact))
      })
    )
  })

  it('an increment or decrement that would leave the safe integers is refused and changes nothing', () => {
    const r = replica()
    r.mergeCounter({ counter: 'up', slot: 'other/1', inc: MAX - 1, dec: 0 })
    expect(r.increment('up', 1).value).toBe(MAX)
    const digest = r.digest.root()
    expect(() => r.increment('up', 1)).toThrow(expect.objectContaining({ code: ErrorCode.COUNTER_OVERFLOW }))
    expect(r.counter('up')).toBe(MAX)
    expect(r.digest.root()).toBe(digest)
    expect(r.increment('up', -1).value).toBe(MAX - 1)

    r.mergeCounter({ counter: 'down', slot: 'other/1', inc: 0, dec: MAX })
    expect(() => r.increment('down', -1)).toThrow(expect.objectContaining({ code: ErrorCode.COUNTER_OVERFLOW }))
    expect(r.counter('down')).toBe(-MAX)
    expect(r.increment('down', 1).value).toBe(-MAX + 1)
  })

  it('refuses local changes while a counter is already beyond the safe integers (other peers made it so)', () => {
    const r = replica()
    r.mergeCounter({ counter: 'n', slot: 'a/1', inc: MAX, dec: 0 })
    r.mergeCounter({ counter: 'n', slot: 'b/1', inc: MAX, dec: 0 })
    expect(r.counter('n')).toBe(Number(2n * BigInt(MAX)))
    expect(() => r.increment('n', -1)).toThrow(expect.objectContaining({ code: ErrorCode.COUNTER_OVERFLOW }))
  })
})
