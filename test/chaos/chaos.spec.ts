/**
 * The chaos run's own logic, without processes: a seed always gives the same fault schedule (with
 * every kind of fault this machine allows, the whole-swarm ones once) and the same mix of peer
 * configurations. The checker is proven in check.spec.ts, partitions in partition.spec.ts; the
 * run itself is `npm run chaos`, which CI runs with a random seed.
 */
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { configsOf, USAGE } from './chaos.mjs'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { LARGE_SKEW, prng, schedule } from './schedule.mjs'

interface Fault {
  kind: string
  length: number
  isolated: number[]
  skews: Array<[number, number]>
}
const options = { partitions: true, skew: true, horizonMs: 5_000 }

describe('the chaos schedule', () => {
  it('is the same for the same seed, different for another, and covers every fault kind first', () => {
    expect(schedule(42, 120_000, options)).toEqual(schedule(42, 120_000, options))
    expect(schedule(42, 120_000, options)).not.toEqual(schedule(43, 120_000, options))
    const faults: Fault[] = schedule(42, 120_000, options)
    expect([...new Set(faults.map((f) => f.kind))].sort()).toEqual(
      ['horizon', 'kill9', 'killAll', 'partition', 'pause', 'restartAll', 'skew', 'skewBeyond', 'skewLarge'].sort()
    )
    for (const whole of ['restartAll', 'killAll']) expect(faults.filter((f) => f.kind === whole)).toHaveLength(1)
    const local = schedule(42, 60_000, { ...options, partitions: false, skew: false }).map((f: Fault) => f.kind)
    expect(local.every((k: string) => ['kill9', 'pause', 'restartAll', 'killAll'].includes(k))).toBe(true)
  })

  it('cuts one peer off for longer than the tombstone horizon, and skews clocks by an hour', () => {
    for (let seed = 0; seed < 20; seed++) {
      for (const f of schedule(seed, 120_000, options) as Fault[]) {
        if (f.kind === 'horizon') {
          expect(f.length).toBeGreaterThan(options.horizonMs)
          expect(f.isolated).toHaveLength(1)
        }
        if (f.kind === 'skewLarge') expect(Math.abs(f.skews[0][1])).toBe(LARGE_SKEW)
      }
    }
  })

  it('draws reproducible numbers in [0, 1)', () => {
    const a = prng(7)
    const b = prng(7)
    const draws = Array.from({ length: 1000 }, () => a())
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()))
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true)
  })
})

describe('the chaos run', () => {
  it('mixes durable, data directory and memory-only peers', () => {
    for (let seed = 0; seed < 5; seed++) {
      const configs: string[] = configsOf(seed)
      expect(configs).toHaveLength(5)
      expect([...new Set(configs)].sort()).toEqual(['datadir', 'durable', 'memory'])
    }
    expect(configsOf(0)).not.toEqual(configsOf(1))
  })

  it('lists every flag in its help', () => {
    for (const flag of ['--seed', '--duration', '--mode', '--clients', '--json', '--help'])
      expect(USAGE).toContain(flag)
  })
})
