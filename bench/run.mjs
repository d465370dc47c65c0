// sharedmem benchmarks, side by side with Redis: `npm run bench` (from the
// repository root or bench/). Needs the built library (`npm install` at the root)
// and redis-server (found on PATH, or installed from Debian's packages as root).
// Starts every process it needs on 127.0.0.1, stops them by PID, prints a table,
// and writes bench/results.json and docs/benchmarks.svg. BENCH_QUICK=1: smaller counts.
import { fork } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as vega from 'vega'
import * as vl from 'vega-lite'
import { connect } from './ipc.mjs'
import { startRedis, waitReplicaCaughtUp, waitReplicaSynced } from './redis.mjs'
import { ENTRY_COUNTS, PEER_COUNTS, scaleCases } from './scale.mjs'

/**
 * BENCH_TINY=1: a fiftieth of the quick counts, one run, fewer cases in the scaling tables: only
 * for the test of the bench's own plumbing (test/bench/run.spec.ts), its figures mean nothing.
 */
const TINY = process.env.BENCH_TINY === '1'
const QUICK = process.env.BENCH_QUICK === '1' || TINY
/** A case's count: `full`, or `quick` (BENCH_QUICK=1), or a fiftieth of `quick` (BENCH_TINY=1). */
const scaled = (full, quick) => (TINY ? Math.max(10, Math.ceil(quick / 50)) : QUICK ? quick : full)
/** Where results.json and the charts go. BENCH_OUT=dir: elsewhere (the plumbing test's own directory). */
const OUT = process.env.BENCH_OUT === undefined ? undefined : pathToFileURL(`${resolve(process.env.BENCH_OUT)}/`)
if (OUT !== undefined) mkdirSync(OUT, { recursive: true })
const outFile = (name, home) => (OUT === undefined ? home : new URL(name, OUT))
/** BENCH_ONLY=reads,replication,join,counters,ratelimit: run only these groups (while working on one figure). */
const ONLY = process.env.BENCH_ONLY?.split(',')
/** BENCH_SCALE=1: also the scaling tables (peers, value sizes, entries; long). */
const SCALE = process.env.BENCH_SCALE === '1'
const runs = (group) => (ONLY === undefined ? !group.startsWith('scale') || SCALE : ONLY.includes(group))
/** Each case runs this many times; the table shows the median and the min–max. */
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3))
const WORKER = new URL('./worker.mjs', import.meta.url)
const children = new Set()
const redises = new Set()
const now = () => performance.timeOrigin + performance.now()

const samples = new Map()

/** Records one sample of a figure; it prints at once and is summarised after every run. */
function record(group, name, value, unit, note = '') {
  const entry = samples.get(name) ?? { group, name, unit, values: [], notes: new Set() }
  entry.values.push(value)
  if (note !== '') entry.notes.add(note)
  samples.set(name, entry)
  console.log(`  ${group.padEnd(12)} ${name.padEnd(56)} ${fmt(value).padStart(12)} ${unit.padEnd(9)} ${note}`)
  return value
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]

/**
 * A side-by-side comparison, computed from medians once every run is done:
 * `advantage(m)` gets a function returning the median of a named figure and says
 * how much better sharedmem does (> 1: better); `target` is the advantage required.
 * `group`: the group its figures come from, when not one every full run makes (a scaling
 * table): the comparison is left out of a run without it.
 */
const comparisons = []
function compare(name, advantage, target, detail, group) {
  if (group === undefined || runs(group)) comparisons.push({ name, advantage, target, detail })
}

function fmt(v) {
  if (typeof v !== 'number') return String(v)
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** A peer process (`file`: a sharedmem worker, or the GUN one) with a promise-returning call(cmd, args). */
async function worker(file = WORKER) {
  const child = fork(file, [], { execArgv: ['--expose-gc', '--max-old-space-size=8192'], stdio: 'inherit' })
  children.add(child)
  const { call } = await connect(child)
  return {
    call,
    async stop() {
      await call('stop').catch(() => {})
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
      children.delete(child)
    }
  }
}

async function redis(options) {
  const r = await startRedis(options)
  redises.add(r)
  return r
}

async function stopRedis(...list) {
  for (const r of list) {
    redises.delete(r)
    await r.stop()
  }
}

/** Stops every process this run started, by its PID (one already gone is skipped). */
function killChildren() {
  const kill = (pid) => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  for (const child of children) if (child.exitCode === null && child.signalCode === null) kill(child.pid)
  for (const r of redises) kill(r.pid)
}
process.on('exit', killChildren)
process.on('SIGINT', () => process.exit(130))
process.on('SIGTERM', () => process.exit(143))

/** Runs `n` calls of `op(i)` with `inFlight` of them outstanding at a time; resolves ops/s. */
async function concurrently(n, inFlight, op) {
  let i = 0
  const started = now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (i < n) await op(i++)
    })
  )
  return n / ((now() - started) / 1000)
}

const VALUE_200 = 'x'.repeat(200)

const JOIN_ENTRIES = scaled(1_000_000, 50_000)
const JOIN = JOIN_ENTRIES.toLocaleString('en-US')
compare(
  'local get vs Redis sequential GET',
  (m) => m('sharedmem getSync (local, synchronous)') / m('Redis GET (sequential)'),
  100
)
compare(
  'local get vs Redis GET, 100 in flight',
  (m) => m('sharedmem getSync (local, synchronous)') / m('Redis GET (100 in flight)')
)
compare(
  'save vs Redis SET (replica attached, 100 in flight)',
  (m) => m('sharedmem save, 2 peers receiving (writer side)') / m('Redis SET, replica attached (100 in flight)')
)
compare(
  'replicated writes/s on 3 processes, warm (target 150,000/s)',
  (m) => m('sharedmem writes/s converged on 3 processes') / 150_000,
  1
)
compare(
  'replicated writes/s on 3 fresh processes (target 120,000/s)',
  (m) => m('sharedmem writes/s converged on 3 processes, first round of fresh processes') / 120_000,
  1
)
compare(
  'visibility p99 at 1,000 writes/s (target ≤ 20 ms)',
  (m) => 20 / m('sharedmem visibility p99 at 1,000 writes/s'),
  1
)
compare(
  'visibility p99 at 1,000 writes/s vs Redis lag p99',
  (m) => m('Redis primary→replica lag p99 at 1,000 writes/s') / m('sharedmem visibility p99 at 1,000 writes/s')
)
compare(
  `late join of ${JOIN} entries (target ≤ 1.0× Redis time)`,
  (m) =>
    m(`Redis fresh replica full sync of ${JOIN} entries`) / m(`sharedmem fresh peer syncs ${JOIN} entries of 100 B`),
  1
)
compare(
  `longest event-loop block of a peer joining ${JOIN} entries (target ≤ 20 ms)`,
  (m) => 20 / m(`sharedmem fresh peer: longest event-loop block while syncing ${JOIN} entries`),
  1
)
/** The scaling table's largest count of entries, and the one its read targets are set at (a million). */
const ENTRIES = ENTRY_COUNTS(QUICK, TINY)
const MOST = ENTRIES.at(-1).toLocaleString('en-US')
const READS_AT = (ENTRIES.find((n) => n >= 1_000_000) ?? ENTRIES.at(-1)).toLocaleString('en-US')
compare(
  `late join of ${MOST} entries (target ≤ 1.0× Redis time)`,
  (m) => m(`Redis ${MOST} entries: fresh replica full sync`) / m(`sharedmem ${MOST} entries: fresh peer join`),
  1,
  undefined,
  'scale-entries'
)
compare(
  `getSync on random keys of ${READS_AT} entries (target ≤ 2× a bare nested Map)`,
  (m) =>
    (2 * m(`bare nested Map, ${READS_AT} entries: read latency (random keys)`)) /
    m(`sharedmem ${READS_AT} entries: getSync latency (random keys)`),
  1,
  undefined,
  'scale-entries'
)
compare(
  `getSync on Zipf(0.99) keys of ${READS_AT} entries (target ≤ 1.2× a bare nested Map)`,
  (m) =>
    (1.2 * m(`bare nested Map, ${READS_AT} entries: read latency (Zipf 0.99 keys)`)) /
    m(`sharedmem ${READS_AT} entries: getSync latency (Zipf 0.99 keys)`),
  1,
  undefined,
  'scale-entries'
)
compare(
  `RSS for ${JOIN} entries, after the writes (target ≤ 1.2× redis-server)`,
  (m) =>
    (1.2 * m(`redis-server RSS holding ${JOIN} entries of 100 B`)) /
    m(`sharedmem peer RSS holding ${JOIN} entries of 100 B`),
  1
)
compare(
  `RSS for ${JOIN} entries, after a full join (target ≤ 1.2× redis-server)`,
  (m) =>
    (1.2 * m(`redis-server RSS holding ${JOIN} entries of 100 B`)) /
    m(`sharedmem joiner RSS holding ${JOIN} entries of 100 B (received by sync)`),
  1
)
compare(
  'replicated writes/s on 3 processes vs GUN',
  (m) => m('sharedmem writes/s converged on 3 processes') / m('GUN writes/s converged on 3 processes')
)
compare(
  'counter increments/s vs Redis INCR',
  (m) => m('3 sharedmem peers increment one counter') / m('3 Redis clients INCR one key (100 in flight each)')
)

async function reads() {
  // In a peer process of its own, as an application embeds it: this process also runs the
  // Redis client, whose String subclass (RESP3 verbatim strings) makes every
  // String.prototype.charCodeAt call in the process several times slower.
  const peer = await worker()
  await peer.call('start')
  const keys = 10_000
  const local = await peer.call('local', {
    keys,
    value: VALUE_200,
    reads: scaled(5_000_000, 1_000_000),
    awaitedReads: scaled(1_000_000, 200_000),
    writes: scaled(500_000, 100_000),
    awaitedWrites: scaled(200_000, 50_000)
  })
  record('reads', 'sharedmem getSync (local, synchronous)', local.getSync, 'ops/s')
  record('reads', 'sharedmem get (awaited, sequential)', local.get, 'ops/s')
  record('writes', 'sharedmem save, local (not awaited, yield every 10,000)', local.save, 'ops/s')
  record('writes', 'sharedmem save, local (awaited, sequential)', local.saveAwaited, 'ops/s')
  await peer.stop()

  const r = await redis()
  for (let i = 0; i < keys; i += 1000) {
    await r.client.mset(...Array.from({ length: 1000 }, (_, j) => [`k${i + j}`, VALUE_200]).flat())
  }
  record(
    'reads',
    'Redis GET (sequential)',
    await concurrently(scaled(20_000, 5_000), 1, (i) => r.client.get(`k${i % keys}`)),
    'ops/s'
  )
  record(
    'reads',
    'Redis GET (100 in flight)',
    await concurrently(scaled(200_000, 50_000), 100, (i) => r.client.get(`k${i % keys}`)),
    'ops/s'
  )
  await stopRedis(r)
}

async function replication() {
  const writer = await worker()
  const { address } = await writer.call('start')
  const receivers = [await worker(), await worker()]
  for (const r of receivers) await r.call('start', { bootstrap: [address] })
  for (const p of [writer, ...receivers]) await p.call('waitPeers', { count: 2 })
  // A first round at the maximum rate warms the three processes up (V8 compiles the hot paths as
  // they run); its figure is kept, and the target is checked on the second, as a peer that has
  // been running for a while would do. At the maximum rate the receivers poll their entry count
  // (and sample one write in 100 for visibility), as the Redis case polls replication offsets; at
  // a set rate a change listener times every write.
  const cases = [
    { name: 'max rate, fresh processes', n: scaled(100_000, 20_000), rate: 0, cold: true },
    { name: 'max rate', n: scaled(100_000, 20_000), rate: 0 },
    { name: '1,000 writes/s', n: scaled(5_000, 2_000), rate: 1_000 },
    { name: '10,000 writes/s', n: scaled(50_000, 20_000), rate: 10_000 }
  ]
  for (const [i, c] of cases.entries()) {
    const collection = `r${i}`
    await Promise.all(receivers.map((r) => r.call('watch', { collection, expect: c.n, listen: c.rate > 0 })))
    const { startedAt, ms } = await writer.call('write', { n: c.n, size: 200, rate: c.rate, collection })
    const results = await Promise.all(receivers.map((r) => r.call('watched', {})))
    const latencies = results.flatMap((r) => r.latencies)
    const complete = results.every((r) => r.received === c.n)
    const note = complete
      ? '3 processes, all writes everywhere'
      : `INCOMPLETE: ${results.map((r) => r.received).join('/')} of ${c.n}`
    const spanMs = Math.max(...results.map((r) => r.lastAt)) - startedAt
    if (c.cold) {
      const name = 'sharedmem writes/s converged on 3 processes, first round of fresh processes'
      record('replication', name, c.n / (spanMs / 1000), 'writes/s', note)
      continue
    }
    if (c.rate === 0) {
      record('writes', 'sharedmem save, 2 peers receiving (writer side)', c.n / (ms / 1000), 'writes/s', note)
      record('replication', 'sharedmem writes/s converged on 3 processes', c.n / (spanMs / 1000), 'writes/s', note)
    }
    record('replication', `sharedmem visibility p50 at ${c.name}`, percentile(latencies, 50), 'ms', note)
    record('replication', `sharedmem visibility p99 at ${c.name}`, percentile(latencies, 99), 'ms', note)
  }
  await Promise.all([writer, ...receivers].map((p) => p.stop()))

  const primary = await redis()
  const replica = await redis({ replicaOf: primary.port })
  await waitReplicaSynced(replica)
  const n = scaled(100_000, 20_000)
  record(
    'writes',
    'Redis SET, replica attached (100 in flight)',
    await concurrently(n, 100, (i) => primary.client.set(`s${i}`, VALUE_200)),
    'writes/s'
  )

  await replica.client.config('SET', 'notify-keyspace-events', 'E$')
  const subscriber = replica.client.duplicate()
  await subscriber.subscribe('__keyevent@0__:set')
  for (const rate of [1_000, 10_000]) {
    // As for sharedmem, where each case waits for every write of the one before: no backlog.
    await waitReplicaCaughtUp(primary, replica)
    const count = rate === 1_000 ? scaled(5_000, 2_000) : scaled(50_000, 20_000)
    const lags = []
    const done = new Promise((resolve) => {
      subscriber.on('message', function onMessage(_channel, key) {
        const [tag, , t] = key.split(':')
        if (tag !== `lag${rate}`) return
        lags.push(now() - Number(t))
        if (lags.length === count) {
          subscriber.off('message', onMessage)
          resolve()
        }
      })
    })
    const started = now()
    for (let i = 0; i < count; ) {
      for (let j = 0; j < Math.max(1, rate / 1000) && i < count; j++, i++)
        primary.client.set(`lag${rate}:${i}:${now()}`, VALUE_200)
      const wait = started + (i / rate) * 1000 - now()
      await new Promise((resolve) => setTimeout(resolve, wait > 1 ? wait : 0))
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))])
    record('replication', `Redis primary→replica lag p50 at ${fmt(rate)} writes/s`, percentile(lags, 50), 'ms')
    record('replication', `Redis primary→replica lag p99 at ${fmt(rate)} writes/s`, percentile(lags, 99), 'ms')
  }
  subscriber.disconnect()
  await stopRedis(replica, primary)
}

async function lateJoinAndMemory(n) {
  const full = await worker()
  const { address } = await full.call('start')
  await full.call('fill', { n, size: 100 })
  const target = await full.call('digest')
  const rss = await full.call('rss')
  const count = n.toLocaleString('en-US')
  record('memory', `sharedmem peer RSS holding ${count} entries of 100 B`, rss.settled / 2 ** 20, 'MiB', 'settled')
  record('memory', `sharedmem peer RSS right after writing ${count} entries of 100 B`, rss.peak / 2 ** 20, 'MiB')
  const joiner = await worker()
  await joiner.call('start', { bootstrap: [address] })
  const caught = await joiner.call('catchUp', { target })
  record(
    'late join',
    `sharedmem fresh peer syncs ${count} entries of 100 B`,
    caught.ms,
    'ms',
    caught.synced ? '' : 'DID NOT CONVERGE'
  )
  record(
    'late join',
    `sharedmem fresh peer: longest event-loop block while syncing ${count} entries`,
    caught.maxBlockMs,
    'ms'
  )
  const joined = await joiner.call('rss')
  record(
    'memory',
    `sharedmem joiner RSS holding ${count} entries of 100 B (received by sync)`,
    joined.settled / 2 ** 20,
    'MiB',
    'settled'
  )
  const idle = await joiner.call('syncRound')
  record('late join', `sharedmem bytes of a sync round, identical replicas of ${count}`, idle.bytes, 'bytes')
  await Promise.all([full.stop(), joiner.stop()])

  const primary = await redis()
  const value = 'x'.repeat(100)
  for (let i = 0; i < n; i += 1000) {
    await primary.client.mset(
      ...Array.from({ length: Math.min(1000, n - i) }, (_, j) => [`fill:k${i + j}`, value]).flat()
    )
  }
  record(
    'memory',
    `redis-server RSS holding ${count} entries of 100 B`,
    Number((await primary.info('memory')).used_memory_rss) / 2 ** 20,
    'MiB'
  )
  const started = now()
  const replica = await redis({ replicaOf: primary.port })
  await waitReplicaSynced(replica)
  record('late join', `Redis fresh replica full sync of ${count} entries`, now() - started, 'ms')
  await stopRedis(replica, primary)
}

async function counters() {
  const n = scaled(100_000, 20_000)
  const peers = [await worker()]
  const { address } = await peers[0].call('start')
  for (let i = 1; i < 3; i++) {
    peers.push(await worker())
    await peers[i].call('start', { bootstrap: [address] })
  }
  for (const p of peers) await p.call('waitPeers', { count: 2 })
  const starts = await Promise.all(peers.map((p) => p.call('incr', { counter: 'hits', n })))
  const ends = await Promise.all(peers.map((p) => p.call('waitCounter', { counter: 'hits', target: 3 * n })))
  const exact = ends.every((e) => e.value === 3 * n)
  record(
    'counters',
    '3 sharedmem peers increment one counter',
    (3 * n) / ((Math.max(...ends.map((e) => e.at)) - Math.min(...starts.map((s) => s.startedAt))) / 1000),
    'incr/s',
    exact ? `exactly ${3 * n} on every peer` : `NOT EXACT: ${ends.map((e) => e.value).join('/')}`
  )
  await Promise.all(peers.map((p) => p.stop()))

  const r = await redis()
  const clients = [r.client, r.client.duplicate(), r.client.duplicate()]
  const started = now()
  await Promise.all(clients.map((c) => concurrently(n, 100, () => c.incr('hits'))))
  record(
    'counters',
    '3 Redis clients INCR one key (100 in flight each)',
    (3 * n) / ((now() - started) / 1000),
    'incr/s',
    `final ${await r.client.get('hits')}`
  )
  for (const c of clients.slice(1)) c.disconnect()
  await stopRedis(r)
}

/**
 * The overshoot of a limit held on a replicated counter (docs/semantics.md): 8 processes, one key,
 * a limit of 1,000 per window through sharedmem/rate-limit's store. One process opens the window
 * and every process sees it first (concurrent openers are another term of the bound); then all 8
 * hit the key at the same rate, from the same moment, well inside the window. The bound is
 * L + (N − 1)·r·d, with r the rate each process hits at and d the visibility p99 measured here.
 */
async function rateLimit() {
  // 8 processes; the plumbing test's tiny run starts 4, to spare the tests that run beside it.
  const N = TINY ? 4 : 8
  const LIMIT = 1_000
  const rate = scaled(500, 250)
  const windowMs = 10_000
  const hammerMs = 2_000
  const peers = [await worker()]
  const { address } = await peers[0].call('start')
  for (let i = 1; i < N; i++) {
    peers.push(await worker())
    await peers[i].call('start', { bootstrap: [address] })
  }
  for (const p of peers) await p.call('waitPeers', { count: N - 1 })
  // d: the visibility of one process's writes at 1,000 writes/s, in this swarm, timed by listeners.
  const n = scaled(1_000, 500)
  await Promise.all(peers.slice(1).map((p) => p.call('watch', { collection: 'vis', expect: n, listen: true })))
  await peers[0].call('write', { n, size: 100, rate: 1_000, collection: 'vis' })
  const seen = await Promise.all(peers.slice(1).map((p) => p.call('watched', {})))
  const d = percentile(
    seen.flatMap((r) => r.latencies),
    99
  )
  record('ratelimit', `sharedmem visibility p99 among ${N} processes at 1,000 writes/s`, d, 'ms')

  await peers[0].call('hit', { key: 'one', windowMs })
  await Promise.all(peers.map((p) => p.call('waitCounter', { counter: 'bench:one', target: 1 })))
  const startAt = Date.now() + 500
  const results = await Promise.all(
    peers.map((p) => p.call('hammer', { key: 'one', windowMs, limit: LIMIT, rate, ms: hammerMs, startAt }))
  )
  const admitted = 1 + results.reduce((sum, r) => sum + r.admitted, 0)
  const attempts = 1 + results.reduce((sum, r) => sum + r.attempts, 0)
  const r = results.reduce((sum, x) => sum + x.attempts / (x.ms / 1000), 0) / N
  const bound = LIMIT + (N - 1) * r * (d / 1000)
  record(
    'ratelimit',
    `${N} processes, one key, limit ${fmt(LIMIT)}/window: admitted in the window`,
    admitted,
    'requests',
    `of ${fmt(attempts)} made at ${fmt(r)}/s per process; bound L + (N − 1)·r·d = ${fmt(bound)} at d = ${d.toFixed(1)} ms`
  )
  record('ratelimit', `${N} processes, one key: admitted past the limit of ${fmt(LIMIT)}`, admitted - LIMIT, 'requests')
  record('ratelimit', `${N} processes, one key: bound L + (N − 1)·r·d past the limit`, bound - LIMIT, 'requests')
  await Promise.all(peers.map((p) => p.stop()))
}

/**
 * The peer-to-peer anchor: GUN (npm gun 0.2020.x) in three in-memory processes over loopback
 * websockets, then a fourth joining late; the same counts as sharedmem's cases, bounded in time
 * (how far it got is reported when it cannot finish).
 */
async function gunAnchor() {
  const GUN = new URL('./gun-worker.mjs', import.meta.url)
  const n = scaled(10_000, 2_000)
  const limit = QUICK ? 30_000 : 120_000
  const first = await worker(GUN)
  const { port } = await first.call('start')
  const others = [await worker(GUN), await worker(GUN)]
  for (const o of others) await o.call('start', { peers: [port] })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const { startedAt } = await first.call('write', { n, size: 200, prefix: 'w' })
  const results = await Promise.all(others.map((o) => o.call('watched', { expect: n, timeout: limit })))
  const complete = results.every((r) => r.received >= n)
  const spanMs = Math.max(...results.map((r) => r.lastAt)) - startedAt
  record(
    'gun',
    'GUN writes/s converged on 3 processes',
    Math.min(...results.map((r) => r.received)) / (spanMs / 1000),
    'writes/s',
    complete
      ? `${fmt(n)} writes, 3 processes, all writes everywhere`
      : `INCOMPLETE in ${limit / 1000} s: ${results.map((r) => r.received).join('/')} of ${n}`
  )
  const join = scaled(100_000, 10_000)
  await first.call('write', { n: join, size: 100, prefix: 'j' })
  await first.call('watched', { expect: n + join, timeout: limit })
  const late = await worker(GUN)
  const started = now()
  await late.call('start', { peers: [port] })
  const got = await late.call('watched', { expect: n + join, timeout: limit })
  record(
    'gun',
    `GUN fresh 4th process catches up with ${fmt(join + n)} entries`,
    got.received >= n + join ? got.lastAt - started : limit,
    'ms',
    got.received >= n + join
      ? 'all entries'
      : `INCOMPLETE: ${fmt(got.received)} of ${fmt(n + join)} within ${limit / 1000} s`
  )
  await Promise.all([first, ...others, late].map((p) => p.stop()))
}

/** Renders the side-by-side ratios as a log-scale bar chart (bars run from 1, where the two are equal). */
async function chart(ratios) {
  const data = ratios.map((r) => ({
    case: r.name,
    advantage: Math.max(r.advantage, 0.001),
    met: r.met === undefined ? 'no target' : r.met ? 'target met' : 'target missed'
  }))
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'sharedmem vs Redis, same machine, same run (> 1: sharedmem better)',
    width: 420,
    data: { values: data },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'case', type: 'nominal', sort: null, title: null, axis: { labelLimit: 480 } },
          x: {
            field: 'advantage',
            type: 'quantitative',
            scale: { type: 'log', domain: [0.05, 2000] },
            title: 'ratio (log scale)'
          },
          x2: { datum: 1 },
          color: {
            field: 'met',
            type: 'nominal',
            scale: { domain: ['target met', 'target missed', 'no target'], range: ['#1f9d55', '#d64545', '#8a94a6'] },
            title: null
          }
        }
      },
      { mark: { type: 'rule', color: '#1d2330' }, encoding: { x: { datum: 1 } } }
    ]
  }).spec
  const view = new vega.View(vega.parse(spec), { renderer: 'none' })
  writeFileSync(outFile('benchmarks.svg', new URL('../docs/benchmarks.svg', import.meta.url)), await view.toSVG())
  view.finalize()
}

/**
 * The scaling curves (BENCH_SCALE=1 rows), as docs/benchmarks-scale.svg: converged writes/s
 * by number of peers, MB/s replicated by value size, and join time and read latency by entries.
 */
async function scaleChart(rows) {
  const points = []
  const add = (panel, series, x, row) => row && points.push({ panel, series, x, y: row.median })
  const find = (re) => rows.find((r) => re.test(r.name))
  for (const n of PEER_COUNTS) {
    add(
      'writes/s converged, by peers',
      'sharedmem, one writer',
      n,
      find(new RegExp(`^sharedmem ${n} peers, one writer: converged`))
    )
    add(
      'writes/s converged, by peers',
      'sharedmem, all writing',
      n,
      find(new RegExp(`^sharedmem ${n} peers, all writing: converged`))
    )
    add(
      'writes/s converged, by peers',
      'Redis, primary + replicas',
      n,
      find(new RegExp(`^Redis primary \\+ ${n - 1} replicas: converged`))
    )
  }
  for (const [size, label] of [
    [100, '100 B'],
    [1000, '1 KB'],
    [10000, '10 KB'],
    [100000, '100 KB']
  ]) {
    add(
      'MB/s replicated to 3 processes, by value bytes',
      'sharedmem',
      size,
      find(new RegExp(`^sharedmem ${label} values on 3 processes: MB/s`))
    )
    add(
      'MB/s replicated to 3 processes, by value bytes',
      'Redis',
      size,
      find(new RegExp(`^Redis ${label} values, primary \\+ 2 replicas: MB/s`))
    )
  }
  // Every count any mode measures: --chart may redraw the results of a run of another mode.
  const counts = new Set([...ENTRY_COUNTS(true, true), ...ENTRY_COUNTS(true, false), ...ENTRY_COUNTS(false, false)])
  // Each series of the entries panels: its panel, its name, and the pattern of its figure's name at a count.
  const byEntries = [
    ['late join, ms, by entries', 'sharedmem fresh peer', (c) => `^sharedmem ${c} entries: fresh peer join`],
    ['late join, ms, by entries', 'Redis fresh replica', (c) => `^Redis ${c} entries: fresh replica full sync`],
    ['read latency, ns, by entries', 'sharedmem getSync', (c) => `^sharedmem ${c} entries: getSync latency \\(random`],
    [
      'read latency, ns, by entries',
      'bare nested Map',
      (c) => `^bare nested Map, ${c} entries: read latency \\(random`
    ],
    [
      'read latency, ns, by entries',
      'sharedmem getSync, Zipf 0.99',
      (c) => `^sharedmem ${c} entries: getSync latency \\(Zipf`
    ],
    [
      'read latency, ns, by entries',
      'bare nested Map, Zipf 0.99',
      (c) => `^bare nested Map, ${c} entries: read latency \\(Zipf`
    ],
    ['read latency, ns, by entries', 'Redis GET', (c) => `^Redis ${c} entries: GET latency`]
  ]
  for (const n of counts) {
    const count = n.toLocaleString('en-US')
    for (const [panel, series, name] of byEntries) add(panel, series, n, find(new RegExp(name(count))))
  }
  if (points.length === 0) return
  const panel = (title, logX) => ({
    title,
    width: 260,
    height: 180,
    data: { values: points.filter((p) => p.panel === title) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: logX ? { type: 'log' } : {}, title: null },
      y: { field: 'y', type: 'quantitative', scale: { type: 'log' }, title: null },
      color: { field: 'series', type: 'nominal', title: null }
    }
  })
  const spec = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'How cost grows: sharedmem and Redis, same machine, same run (log scales)',
    resolve: { scale: { color: 'independent' } },
    config: { legend: { labelLimit: 320 } },
    vconcat: [
      {
        hconcat: [
          panel('writes/s converged, by peers', false),
          panel('MB/s replicated to 3 processes, by value bytes', true)
        ]
      },
      { hconcat: [panel('late join, ms, by entries', true), panel('read latency, ns, by entries', true)] }
    ]
  }).spec
  const view = new vega.View(vega.parse(spec), { renderer: 'none' })
  writeFileSync(
    outFile('benchmarks-scale.svg', new URL('../docs/benchmarks-scale.svg', import.meta.url)),
    await view.toSVG()
  )
  view.finalize()
}

if (process.argv.includes('--chart')) {
  // Re-draw the charts from the last results without running anything.
  const last = JSON.parse(readFileSync(outFile('results.json', new URL('./results.json', import.meta.url)), 'utf8'))
  await chart(last.ratios)
  await scaleChart(last.rows)
  process.exit(0)
}

const scale = scaleCases({ worker, redis, stopRedis, record, now, scaled, quick: QUICK, tiny: TINY })
const started = Date.now()
const machine = `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`
console.log(`sharedmem benchmarks vs Redis — ${machine}; ${RUNS} run(s) of each case${QUICK ? ' (quick)' : ''}`)
try {
  for (let run = 1; run <= RUNS; run++) {
    console.log(`\nrun ${run} of ${RUNS}`)
    if (runs('reads')) await reads()
    if (runs('replication')) await replication()
    if (runs('join')) await lateJoinAndMemory(JOIN_ENTRIES)
    if (runs('counters')) await counters()
    if (runs('ratelimit')) await rateLimit()
    if (runs('gun')) await gunAnchor()
    if (runs('scale-peers')) await scale.peersTable()
    if (runs('scale-values')) await scale.valuesTable()
    if (runs('scale-entries')) await scale.entriesTable()
  }
} finally {
  killChildren()
}
const rows = [...samples.values()].map((s) => ({
  group: s.group,
  name: s.name,
  unit: s.unit,
  median: median(s.values),
  min: Math.min(...s.values),
  max: Math.max(...s.values),
  runs: s.values.length,
  note: [...s.notes].join('; ')
}))
console.log(`\n${'figure'.padEnd(70)} ${'median'.padStart(12)} ${'min–max'.padStart(24)}`)
for (const r of rows) {
  console.log(
    `${`${r.group} · ${r.name}`.padEnd(70)} ${fmt(r.median).padStart(12)} ${`${fmt(r.min)}–${fmt(r.max)}`.padStart(24)} ${r.unit}`
  )
}
const byName = new Map(rows.map((r) => [r.name, r.median]))
const m = (name) => {
  if (!byName.has(name)) throw new Error(`no figure named "${name}"`)
  return byName.get(name)
}
// A partial run (BENCH_ONLY) compares what it measured, and keeps the last full results.
const ratios = comparisons.flatMap((c) => {
  let advantage
  try {
    advantage = c.advantage(m)
  } catch (err) {
    if (ONLY === undefined) throw err
    return []
  }
  return [
    { name: c.name, advantage, target: c.target, met: c.target === undefined ? undefined : advantage >= c.target }
  ]
})
console.log('\nside by side, from medians (advantage > 1: sharedmem better)')
for (const r of ratios) {
  const verdict = r.met === undefined ? '' : r.met ? 'target met' : 'target MISSED'
  console.log(`  ${r.name.padEnd(58)} ${r.advantage.toFixed(2).padStart(8)}×  ${verdict}`)
}
if (ONLY !== undefined) process.exit(0)
await chart(ratios)
await scaleChart(rows)
writeFileSync(
  outFile('results.json', new URL('./results.json', import.meta.url)),
  `${JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, quick: QUICK, rows, ratios }, null, 2)}\n`
)
console.log(
  `\n${rows.length} figures, ${RUNS} run(s), in ${Math.round((Date.now() - started) / 1000)} s; written to ${OUT === undefined ? 'bench/results.json and docs/' : OUT.pathname}`
)
