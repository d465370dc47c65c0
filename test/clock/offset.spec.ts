import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareTimestamps, restore } from '../../src/clock/index.js'
import { bestLead, isSkewed, sampleLead, swarmLead } from '../../src/clock/offset.js'
import { ClockWatch } from '../../src/clock/watch.js'

const wall = fc.integer({ min: 0, max: 2 ** 42 })
const timestamp = fc.record({ wall, logical: fc.integer({ min: 0, max: 1000 }) })
const lead = fc.integer({ min: -(2 ** 32), max: 2 ** 32 })

/** An exchange with a peer whose clock is `remoteLead` ms ahead, answered `at` (0..1) through the round trip. */
const exchange = fc
  .record({
    sent: fc.integer({ min: 2 ** 33, max: 2 ** 40 }),
    roundTrip: fc.integer({ min: 0, max: 60_000 }),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    remoteLead: lead
  })
  .map(({ sent, roundTrip, at, remoteLead }) => ({
    sample: { sent, received: sent + roundTrip, remote: sent + at * roundTrip + remoteLead },
    remoteLead
  }))

describe('clock offsets', () => {
  it('a sample bounds the lead within half its round trip, wherever in it the peer read its clock', () => {
    fc.assert(
      fc.property(exchange, ({ sample, remoteLead }) => {
        const estimate = sampleLead(sample)
        expect(estimate).toBeDefined()
        if (estimate === undefined) return
        expect(estimate.error).toBe((sample.received - sample.sent) / 2)
        expect(Math.abs(estimate.lead - -remoteLead)).toBeLessThanOrEqual(estimate.error + 1e-6)
      })
    )
  })

  it('a sample across a local clock that went back bounds nothing', () => {
    expect(sampleLead({ sent: 100, remote: 50, received: 99 })).toBeUndefined()
  })

  it('the best of several samples has the shortest round trip and keeps the bound', () => {
    fc.assert(
      fc.property(lead, fc.array(exchange, { minLength: 1, maxLength: 8 }), (remoteLead, exchanges) => {
        // One peer: every sample of the same clock.
        const samples = exchanges.map(({ sample }) => ({
          ...sample,
          remote: sample.remote - exchanges[0].remoteLead + remoteLead
        }))
        const best = bestLead(samples)
        expect(best).toBeDefined()
        if (best === undefined) return
        const shortest = Math.min(...samples.map((s) => s.received - s.sent))
        expect(best.error).toBe(shortest / 2)
      })
    )
  })

  it('the swarm lead is one of the leads or zero, whatever their order', () => {
    fc.assert(
      fc.property(fc.array(lead, { maxLength: 30 }), fc.integer(), (leads, seed) => {
        const result = swarmLead(leads)
        expect([0, ...leads]).toContain(result)
        const shuffled = [...leads].sort((a, b) => ((a * 31 + seed) % 7) - ((b * 31 + seed) % 7))
        expect(swarmLead(shuffled)).toBe(result)
      })
    )
  })

  it('when most of the swarm (this peer included) agrees within a bound, the swarm lead is within it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.integer({ min: -1, max: 1 }), { maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 2 ** 32 }), { maxLength: 30 }),
        (bound, near, far) => {
          const agreeing = near.map((sign) => sign * bound)
          const others = far.map((d, i) => (i % 2 === 0 ? 1 : -1) * (bound + 1 + d))
          fc.pre(agreeing.length + 1 > (agreeing.length + others.length + 1) / 2)
          expect(isSkewed(swarmLead([...agreeing, ...others]), bound)).toBe(false)
        }
      )
    )
  })

  it('a peer ahead of every other is skewed; one behind is when at least two others agree', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120_000 }),
        fc.array(fc.integer({ min: 1, max: 2 ** 32 }), { minLength: 1, maxLength: 30 }),
        (bound, beyond) => {
          expect(isSkewed(swarmLead(beyond.map((d) => bound + d)), bound)).toBe(true)
          const behind = swarmLead(beyond.map((d) => -(bound + d)))
          expect(isSkewed(behind, bound)).toBe(beyond.length >= 2)
        }
      )
    )
  })

  it('of two peers apart, the one ahead is told it is off', () => {
    expect(swarmLead([3_600_000])).toBe(3_600_000)
    expect(swarmLead([-3_600_000])).toBe(0)
  })

  it('isSkewed is symmetric and strict at the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), lead, (bound, l) => {
        expect(isSkewed(l, bound)).toBe(isSkewed(-l, bound))
        expect(isSkewed(l, bound)).toBe(Math.abs(l) > bound)
      })
    )
  })
})

describe('restore', () => {
  it('never moves the clock back and never beyond the wall clock and the bound', () => {
    fc.assert(
      fc.property(timestamp, timestamp, wall, fc.integer({ min: 0, max: 2 ** 20 }), (last, stored, now, maxLead) => {
        const next = restore(last, stored, now, maxLead)
        expect(compareTimestamps(next, last)).toBeGreaterThanOrEqual(0)
        expect(next.wall).toBeLessThanOrEqual(Math.max(last.wall, now + maxLead))
        if (stored.wall <= now + maxLead) expect(compareTimestamps(next, stored)).toBeGreaterThan(0)
        else expect(next).toEqual(last)
      })
    )
  })
})

describe('ClockWatch', () => {
  const sample = (leadMs: number) => ({ sent: 1_000_000, remote: 1_000_000 - leadMs, received: 1_000_000 })

  it('flags a clock the swarm disagrees with, once, and clears it when peers go or agree', () => {
    const changes: boolean[] = []
    const watch = new ClockWatch({ maxSkew: 1000, onChange: (v) => changes.push(v.skewed) })
    watch.add('a', sample(-5000))
    expect(watch.verdict.skewed).toBe(false)
    watch.add('b', sample(-5000))
    expect(watch.verdict).toEqual({ skewed: true, offsetMs: -5000, peers: 2 })
    watch.add('b', sample(-5000))
    watch.retain(['a'])
    expect(watch.verdict).toEqual({ skewed: false, offsetMs: 0, peers: 1 })
    watch.add('b', sample(10))
    watch.forget('a')
    expect(watch.verdict).toEqual({ skewed: false, offsetMs: 10, peers: 1 })
    expect(changes).toEqual([true, false])
  })

  it('judges each peer by its tightest recent sample', () => {
    const watch = new ClockWatch({ maxSkew: 1000 })
    // A slow answer (lead 0 ± 100 s), then a quick one (lead -5 s ± 5 s): the quick one counts.
    for (const peer of ['a', 'b']) {
      watch.add(peer, { sent: 0, remote: 100_000, received: 200_000 })
      watch.add(peer, { sent: 300_000, remote: 310_000, received: 310_000 })
      watch.add(peer, { sent: 400_000, remote: 500_000, received: 600_000 })
    }
    expect(watch.verdict).toEqual({ skewed: true, offsetMs: -5000, peers: 2 })
  })
})
