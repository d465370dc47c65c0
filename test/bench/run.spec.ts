/**
 * The plumbing of the bench (issue #28): every documented mode of bench/run.mjs, and the scratch
 * benches beside it, run to their end at a tiny scale (BENCH_TINY=1) and write what they say they
 * write. Nothing here is timed and no figure is asserted: the figures of a tiny run mean nothing.
 * bench/run.mjs loads dist/ (built by `npm test` first), bench/'s own packages and redis-server.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { decideBench } from '../fixtures/bench.js'
import { runNode, type ScriptRun } from '../fixtures/processes.js'

const BENCH = fileURLToPath(new URL('../../bench/', import.meta.url))
const onPath = (bin: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, bin)))
const decision = decideBench(process.env, {
  redisServer: onPath('redis-server'),
  benchPackages: existsSync(join(BENCH, 'node_modules', 'vega-lite')) && existsSync(join(BENCH, 'node_modules', 'gun'))
})
if (decision.action === 'skip') console.warn(`sharedmem: ${decision.reason}`)

const out = mkdtempSync(join(tmpdir(), 'sharedmem-bench-plumbing-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

/**
 * Runs a bench script in bench/ to its end, at the tiny scale. Past `timeout` it gets SIGTERM, on
 * which run.mjs and floor.mjs stop every process they started, by its PID; then SIGKILL.
 */
function bench(args: string[], env: Record<string, string>, timeout: number): Promise<ScriptRun> {
  // A developer's own BENCH_ONLY, BENCH_SCALE or BENCH_RUNS would change what each run does.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BENCH_')))
  return runNode(['--expose-gc', ...args], {
    cwd: BENCH,
    env: { ...inherited, BENCH_TINY: '1', ...env },
    timeout,
    grace: 10_000,
    drain: true
  })
}

/** What a run wrote to results.json: its figures' groups, and its side-by-side comparisons. */
function results(dir: string): { groups: Set<string>; ratios: number } {
  const json = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
    rows: Array<{ group: string }>
    ratios: unknown[]
  }
  return { groups: new Set(json.rows.map((r) => r.group)), ratios: json.ratios.length }
}

const ready = (run: ScriptRun) => `exit ${run.code}\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`

describe.skipIf(decision.action === 'skip')(
  decision.action === 'skip' ? `the bench's plumbing (${decision.reason})` : "the bench's plumbing",
  () => {
    it('has what it needs (in CI it must)', () => {
      expect(decision).toEqual({ action: 'run' })
    })

    it('npm run bench: every group to its end, results.json and the chart written', { timeout: 240_000 }, async () => {
      const dir = join(out, 'default')
      const run = await bench(['run.mjs'], { BENCH_OUT: dir }, 210_000)
      expect(run.code, ready(run)).toBe(0)
      const { groups, ratios } = results(dir)
      for (const group of ['reads', 'writes', 'replication', 'late join', 'memory', 'counters', 'ratelimit', 'gun'])
        expect(groups).toContain(group)
      expect([...groups].some((g) => g.startsWith('scale'))).toBe(false)
      expect(ratios).toBeGreaterThan(0)
      expect(existsSync(join(dir, 'benchmarks.svg'))).toBe(true)
    })

    it('BENCH_SCALE=1: the scaling tables too, and their chart; then --chart draws both again', {
      timeout: 360_000
    }, async () => {
      const dir = join(out, 'scale')
      // Every group of the default run and the scaling tables: 70 s alone on a 2-core machine.
      const run = await bench(['run.mjs'], { BENCH_OUT: dir, BENCH_SCALE: '1' }, 300_000)
      expect(run.code, ready(run)).toBe(0)
      const { groups } = results(dir)
      for (const group of ['reads', 'scale · peers', 'scale · values', 'scale · entries'])
        expect(groups).toContain(group)
      for (const svg of ['benchmarks.svg', 'benchmarks-scale.svg']) {
        expect(existsSync(join(dir, svg))).toBe(true)
        rmSync(join(dir, svg))
      }
      const chart = await bench(['run.mjs', '--chart'], { BENCH_OUT: dir }, 60_000)
      expect(chart.code, ready(chart)).toBe(0)
      for (const svg of ['benchmarks.svg', 'benchmarks-scale.svg']) expect(existsSync(join(dir, svg))).toBe(true)
    })

    it('BENCH_ONLY and BENCH_RUNS: a partial run of two groups, twice, compares what it measured and keeps the last results', {
      timeout: 120_000
    }, async () => {
      const dir = join(out, 'only')
      const run = await bench(['run.mjs'], { BENCH_OUT: dir, BENCH_ONLY: 'reads,counters', BENCH_RUNS: '2' }, 100_000)
      expect(run.code, ready(run)).toBe(0)
      expect(run.stdout).toContain('run 2 of 2')
      expect(run.stdout).toContain('counter increments/s vs Redis INCR')
      expect(existsSync(join(dir, 'results.json'))).toBe(false)
    })

    it('bench/join-bytes.mjs prints its table, idle and under load', { timeout: 120_000 }, async () => {
      const run = await bench(['join-bytes.mjs'], { PEERS: '2,3', ENTRIES: '300', RATE: '200' }, 100_000)
      expect(run.code, ready(run)).toBe(0)
      // Figures of a tiny run: entries in / out, MB (out), the ratio.
      const figures = String.raw` +\d+ / \d+ +[\d.]+ \([\d.]+\) +[\d.]+×`
      for (const row of ['2 +idle', '2 +200/s', '3 +idle', '3 +200/s'])
        expect(run.stdout).toMatch(new RegExp(`^${row}${figures}`, 'm'))
    })

    it('bench/floor.mjs and bench/collections.mjs print their tables', { timeout: 120_000 }, async () => {
      // Four processes, each dialling every other, as a swarm's announcements connect them.
      const floor = await bench(
        ['floor.mjs'],
        { PEERS: '4', ROUNDS: '3', MESSAGES: '5', WRITES: '10', BYTES: '100' },
        60_000
      )
      expect(floor.code, ready(floor)).toBe(0)
      expect(floor.stdout).toMatch(/^4 processes; 5 messages of 10 writes × 100 B a round$/m)
      for (const label of ['summed', 'per process'])
        expect(floor.stdout).toMatch(
          new RegExp(`^${label} CPU µs/write: round 0 \\(fresh processes\\) [\\d.]+, round 1 [\\d.]+$`, 'm')
        )
      // Paced, stamped messages: the latency floor of the visibility cases.
      const paced = await bench(
        ['floor.mjs'],
        { PEERS: '2', RATE: '200', ROUNDS: '2', MESSAGES: '20', WRITES: '1' },
        60_000
      )
      expect(paced.code, ready(paced)).toBe(0)
      expect(paced.stdout).toMatch(
        /^delivery latency at 200 messages\/s, rounds 1-1: p50 [\d.]+, p99 [\d.]+, max [\d.]+ ms \(20 deliveries\)$/m
      )
      expect(paced.stdout).toMatch(/^longest event-loop block, rounds 1-1: writer [\d.]+ ms, receivers [\d.]+ ms$/m)
      const collections = await bench(['collections.mjs', '100'], { SETTLE_MS: '0' }, 60_000)
      expect(collections.code, ready(collections)).toBe(0)
      // Figures of a tiny run: any number, even negative (RSS can fall while so little is written).
      expect(collections.stdout).toMatch(/^100 collections of 3 keys\s+[\d.]+(\s+-?\d+){3}$/m)
      expect(collections.stdout).toMatch(/^ {2}small \/ one per entry\s+\S+×\s+\S+×$/m)
      expect(collections.stdout).toMatch(/^ {2}counter \/ entry\s+\S+×\s+\S+×$/m)
    })
  }
)
