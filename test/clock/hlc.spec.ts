import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock, compareStamps, compareTimestamps, receive, type Timestamp, tick, ZERO } from '../../src/clock/index.js'
import { ErrorCode } from '../../src/errors.js'

const wall = fc.integer({ min: 0, max: 2 ** 42 })
const timestamp = fc.record({ wall, logical: fc.integer({ min: 0, max: 1000 }) })

describe('hybrid logical clock', () => {
  it('tick is strictly monotonic, even when the wall clock goes backwards', () => {
    fc.assert(
      fc.property(fc.array(wall, { minLength: 1, maxLength: 200 }), (walls) => {
        let last: Timestamp = ZERO
        for (const now of walls) {
          const next = tick(last, now)
          expect(compareTimestamps(next, last)).toBeGreaterThan(0)
          expect(next.wall).toBeGreaterThanOrEqual(now)
          last = next
        }
      })
    )
  })

  it('receive orders after both the local and the remote timestamp', () => {
    fc.assert(
      fc.property(timestamp, timestamp, wall, (last, remote, now) => {
        const next = receive(last, remote, now)
        expect(compareTimestamps(next, last)).toBeGreaterThan(0)
        expect(compareTimestamps(next, remote)).toBeGreaterThan(0)
        expect(next.wall).toBe(Math.max(last.wall, remote.wall, now))
      })
    )
  })

  it('adds one to the logical part when physical parts tie (Kulkarni et al.)', () => {
    expect(receive({ wall: 10, logical: 3 }, { wall: 10, logical: 7 }, 5)).toEqual({ wall: 10, logical: 8 })
    expect(receive({ wall: 10, logical: 3 }, { wall: 9, logical: 7 }, 5)).toEqual({ wall: 10, logical: 4 })
    expect(receive({ wall: 9, logical: 3 }, { wall: 10, logical: 7 }, 5)).toEqual({ wall: 10, logical: 8 })
    expect(receive({ wall: 9, logical: 3 }, { wall: 8, logical: 7 }, 11)).toEqual({ wall: 11, logical: 0 })
  })

  it('orders stamps totally, breaking ties on the peer id', () => {
    const stamp = fc.record({
      wall: fc.integer({ min: 0, max: 3 }),
      logical: fc.integer({ min: 0, max: 3 }),
      node: fc.constantFrom('a', 'b', 'c')
    })
    fc.assert(
      fc.property(stamp, stamp, (a, b) => {
        const ab = compareStamps(a, b)
        expect(Math.sign(ab) + Math.sign(compareStamps(b, a))).toBe(0)
        if (ab === 0) expect(a).toEqual(b)
      })
    )
  })

  it('Clock survives the wall clock going backwards', () => {
    let now = 1000
    const clock = new Clock({ now: () => now, maxSkew: 100 })
    const a = clock.tick()
    now = 500
    const b = clock.tick()
    expect(compareTimestamps(b, a)).toBeGreaterThan(0)
  })

  it('Clock rejects remote timestamps beyond the skew bound and keeps its state', () => {
    const clock = new Clock({ now: () => 1000, maxSkew: 100 })
    clock.receive({ wall: 1100, logical: 0 })
    const before = clock.current
    expect(() => clock.receive({ wall: 1101, logical: 0 })).toThrowError(
      expect.objectContaining({ code: ErrorCode.CLOCK_SKEW })
    )
    expect(clock.current).toBe(before)
  })
})
