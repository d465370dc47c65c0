/**
 * The chaos run's own logic, without processes: a seed always gives the same fault schedule, and
 * the checks flag each kind of anomaly they promise to find (a checker that finds nothing proves
 * nothing). The run itself is `npm run chaos`; CI runs it with a random seed.
 */
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { prng, schedule } from './chaos.mjs'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { check } from './check.mjs'

interface Counter {
  sum: number
  maybeUp: number
  maybeDown: number
}

function history() {
  return {
    unique: new Map([
      ['u1', { value: { n: 1 }, peer: 0, at: 0 }],
      ['u2', { value: { n: 2 }, peer: 1, at: 0 }]
    ]),
    maybeUnique: new Set(['u3']),
    removed: new Set(['u2']),
    maybeRemoved: new Set<string>(),
    hot: new Map([['h0', new Set(['w1', 'w2'])]]),
    counters: new Map<string, Counter>([['c0', { sum: 5, maybeUp: 1, maybeDown: 0 }]]),
    expiring: new Map([['t1', { expiresIn: 1000, at: 0, skew: 0, peer: 0, done: 0 }]])
  }
}

function replica(overrides: Record<string, unknown> = {}) {
  return { digest: 'd', u: { u1: { n: 1 } }, h: { h0: 'w2' }, t: {}, evil: {}, counters: { c0: 5 }, ...overrides }
}

const at = { now: 10_000, skewAllowance: 3_000 }

describe('the chaos schedule', () => {
  it('is the same for the same seed, different for another, and covers every fault kind first', () => {
    const options = { partitions: true, skew: true }
    expect(schedule(42, 60_000, options)).toEqual(schedule(42, 60_000, options))
    expect(schedule(42, 60_000, options)).not.toEqual(schedule(43, 60_000, options))
    const kinds = new Set(schedule(42, 60_000, options).map((f: { kind: string }) => f.kind))
    expect([...kinds].sort()).toEqual(['kill9', 'partition', 'pause', 'restartAll', 'skew', 'skewBeyond'])
    const local = schedule(42, 60_000, { partitions: false, skew: false }).map((f: { kind: string }) => f.kind)
    expect(local.every((k: string) => ['kill9', 'pause', 'restartAll'].includes(k))).toBe(true)
    expect(local.filter((k: string) => k === 'restartAll').length).toBeLessThanOrEqual(1)
  })

  it('draws reproducible numbers in [0, 1)', () => {
    const a = prng(7)
    const b = prng(7)
    const draws = Array.from({ length: 1000 }, () => a())
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true)
  })
})

describe('the chaos checks', () => {
  it('find nothing wrong in a history the replicas agree with', () => {
    expect(check([replica(), replica()], history(), at).anomalies).toEqual([])
  })

  it('flag a lost write, a removed key back, an invented key, a bad hot value, a wrong counter, an expired key', () => {
    const bad = replica({
      u: { u2: { n: 2 }, u9: 1 },
      h: { h0: 'never' },
      t: { t1: 1 },
      counters: { c0: 4 },
      evil: { x: 1 }
    })
    const { anomalies, lost } = check([bad], history(), at)
    expect(lost).toBe(1)
    const kinds = anomalies.map((a: string) => a.split(':')[0])
    expect(kinds.sort()).toEqual(['alive', 'back', 'counter c0 is 4', 'evil', 'hot', 'invented', 'lost'])
  })

  it('flag replicas that differ', () => {
    const anomalies = check([replica(), replica({ digest: 'e', h: { h0: 'w1' } })], history(), at).anomalies
    expect(anomalies).toHaveLength(2)
  })

  it('allow a counter within its uncertain operations', () => {
    expect(check([replica({ counters: { c0: 6 } })], history(), at).anomalies).toEqual([])
    expect(check([replica({ counters: { c0: 7 } })], history(), at).anomalies).toHaveLength(1)
  })
})
