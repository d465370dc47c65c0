/** When the test of the bench's plumbing runs, is skipped (saying why and how) or fails: test/fixtures/bench.ts. */
import { describe, expect, it } from 'vitest'
import { decideBench } from '../fixtures/bench.js'

const all = { redisServer: true, benchPackages: true }

describe("the bench's plumbing test", () => {
  it('runs with redis-server and bench/ packages, in CI or not', () => {
    expect(decideBench({}, all)).toEqual({ action: 'run' })
    expect(decideBench({ CI: 'true' }, all)).toEqual({ action: 'run' })
  })

  it('skips without either outside CI, saying how to get each', () => {
    const d = decideBench({}, { redisServer: false, benchPackages: false })
    expect(d.action).toBe('skip')
    expect(d).toHaveProperty('reason', expect.stringContaining('apt-get install redis-server'))
    expect(d).toHaveProperty('reason', expect.stringContaining('npm --prefix bench ci'))
  })

  it('fails without either in CI', () => {
    expect(decideBench({ CI: '1' }, { ...all, redisServer: false }).action).toBe('fail')
    expect(decideBench({ CI: 'true' }, { ...all, benchPackages: false }).action).toBe('fail')
    expect(decideBench({ CI: 'false' }, { ...all, benchPackages: false }).action).toBe('skip')
  })
})
