// sharedmem benchmarks: `npm run bench` (from the repository root or bench/).
// Needs the built library (`npm install` at the root builds it). Starts its own
// peer processes on 127.0.0.1, stops them by PID, prints a table and writes
// bench/results.json. Set BENCH_QUICK=1 for a short run (smaller counts).
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { createPeer } from '../dist/index.js'

const QUICK = process.env.BENCH_QUICK === '1'
const WORKER = new URL('./worker.mjs', import.meta.url)
const rows = []
const children = new Set()

function record(group, name, value, unit, note = '') {
  rows.push({ group, name, value, unit, note })
  console.log(`${group.padEnd(12)} ${name.padEnd(48)} ${fmt(value).padStart(14)} ${unit.padEnd(10)} ${note}`)
}

function fmt(v) {
  if (typeof v !== 'number') return String(v)
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** A worker process with a promise-returning call(cmd, args). */
async function worker() {
  const child = fork(WORKER, [], { execArgv: ['--expose-gc', '--max-old-space-size=8192'], stdio: 'inherit' })
  children.add(child)
  const pending = new Map()
  let next = 0
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)))
  })
  child.on('message', ({ id, result, error }) => {
    const p = pending.get(id)
    pending.delete(id)
    if (error) p?.reject(new Error(error))
    else p?.resolve(result)
  })
  return {
    pid: child.pid,
    call(cmd, args) {
      const id = next++
      child.send({ id, cmd, args })
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }))
    },
    async stop() {
      await this.call('stop').catch(() => {})
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
      children.delete(child)
    }
  }
}

function killChildren() {
  for (const child of children) if (child.exitCode === null) process.kill(child.pid, 'SIGKILL')
}
process.on('exit', killChildren)
process.on('SIGINT', () => process.exit(130))

async function localReadsAndWrites() {
  const peer = await createPeer()
  const keys = 10_000
  const value = 'x'.repeat(200)
  for (let i = 0; i < keys; i++) await peer.save({ collection: 'c', key: `k${i}`, variable: value })
  const reads = QUICK ? 1_000_000 : 5_000_000
  let t = performance.now()
  let hits = 0
  for (let i = 0; i < reads; i++) if (peer.getSync({ collection: 'c', key: `k${i % keys}` }) !== null) hits++
  record(
    'local',
    'getSync (synchronous read)',
    reads / ((performance.now() - t) / 1000),
    'ops/s',
    `${hits === reads ? 'all hit' : 'MISSES'}`
  )
  const asyncReads = QUICK ? 200_000 : 1_000_000
  t = performance.now()
  for (let i = 0; i < asyncReads; i++) await peer.get({ collection: 'c', key: `k${i % keys}` })
  record('local', 'get (awaited, sequential)', asyncReads / ((performance.now() - t) / 1000), 'ops/s')
  const writes = QUICK ? 100_000 : 500_000
  t = performance.now()
  for (let i = 0; i < writes; i++) {
    peer.save({ collection: 'w', key: `k${i % 50_000}`, variable: value })
    if (i % 10_000 === 9_999) await new Promise(setImmediate)
  }
  record('local', 'save (200 B, not awaited, flushed per 10k)', writes / ((performance.now() - t) / 1000), 'ops/s')
  const awaited = QUICK ? 50_000 : 200_000
  t = performance.now()
  for (let i = 0; i < awaited; i++) await peer.save({ collection: 'w', key: `k${i % 50_000}`, variable: value })
  record('local', 'save (200 B, awaited, sequential)', awaited / ((performance.now() - t) / 1000), 'ops/s')
  await peer.stop()
}

async function replication() {
  const writer = await worker()
  const { address } = await writer.call('start')
  const receivers = [await worker(), await worker()]
  for (const r of receivers) await r.call('start', { bootstrap: [address] })
  for (const p of [writer, ...receivers]) await p.call('waitPeers', { count: 2 })
  const cases = [
    { name: 'max rate', n: QUICK ? 20_000 : 100_000, rate: 0 },
    { name: '1,000 writes/s', n: QUICK ? 2_000 : 5_000, rate: 1_000 },
    { name: '10,000 writes/s', n: QUICK ? 20_000 : 50_000, rate: 10_000 }
  ]
  for (const [i, c] of cases.entries()) {
    const collection = `r${i}`
    await Promise.all(receivers.map((r) => r.call('watch', { collection, expect: c.n })))
    const { startedAt } = await writer.call('write', { n: c.n, size: 200, rate: c.rate, collection })
    const results = await Promise.all(receivers.map((r) => r.call('watched', {})))
    const latencies = results.flatMap((r) => r.latencies)
    const received = results.map((r) => r.received)
    const complete = received.every((n) => n === c.n)
    // From the first write until the last receiver held the last one (one host, one clock).
    const spanMs = Math.max(...results.map((r) => r.lastAt)) - startedAt
    const note = complete ? '3 processes, all writes everywhere' : `INCOMPLETE: ${received.join('/')} of ${c.n}`
    if (c.rate === 0)
      record('replication', `writes/s converged on 3 processes (${c.name})`, c.n / (spanMs / 1000), 'writes/s', note)
    record('replication', `visibility p50 at ${c.name}`, percentile(latencies, 50), 'ms', note)
    record('replication', `visibility p99 at ${c.name}`, percentile(latencies, 99), 'ms', note)
  }
  await Promise.all([writer, ...receivers].map((p) => p.stop()))
}

/** The cost of signMessages: replicated writes/s to one receiver, signed vs unsigned. */
async function signing() {
  for (const signMessages of [false, true]) {
    const label = signMessages ? 'signed' : 'unsigned'
    const writer = await worker()
    const { address } = await writer.call('start', { options: { signMessages } })
    const receiver = await worker()
    await receiver.call('start', { bootstrap: [address], options: { signMessages } })
    await writer.call('waitPeers', { count: 1 })
    for (const [i, c] of [
      { name: 'batched', n: QUICK ? 20_000 : 100_000, sparse: false },
      { name: 'one write per message', n: QUICK ? 2_000 : 10_000, sparse: true }
    ].entries()) {
      const collection = `s${i}`
      await receiver.call('watch', { collection, expect: c.n })
      const { startedAt } = await writer.call('write', { n: c.n, size: 200, rate: 0, collection, sparse: c.sparse })
      const { received, lastAt } = await receiver.call('watched', {})
      const note = received === c.n ? '2 processes' : `INCOMPLETE: ${received} of ${c.n}`
      record(
        'signing',
        `writes/s replicated, ${c.name}, ${label}`,
        received / ((lastAt - startedAt) / 1000),
        'writes/s',
        note
      )
    }
    await Promise.all([writer.stop(), receiver.stop()])
  }
}

async function sync(n) {
  const full = await worker()
  const { address } = await full.call('start')
  const fill = await full.call('fill', { n, size: 100 })
  const target = await full.call('digest')
  const rss = await full.call('rss')
  record(
    'memory',
    `RSS of a peer holding ${n.toLocaleString('en-US')} entries of 100 B`,
    rss / 2 ** 20,
    'MiB',
    `filled in ${Math.round(fill.ms)} ms`
  )
  const joiner = await worker()
  await joiner.call('start', { bootstrap: [address] })
  const caught = await joiner.call('catchUp', { target })
  record(
    'sync',
    `fresh peer catches up on ${n.toLocaleString('en-US')} entries of 100 B`,
    caught.ms,
    'ms',
    caught.synced ? `event loop blocked ≤ ${caught.maxBlockMs.toFixed(0)} ms` : 'DID NOT CONVERGE'
  )
  const idle = await joiner.call('syncRound')
  record(
    'sync',
    `bytes of a round between identical replicas of ${n.toLocaleString('en-US')}`,
    idle.bytes,
    'bytes',
    idle.inSync ? 'found in sync' : 'NOT IN SYNC'
  )
  await Promise.all([full.stop(), joiner.stop()])
}

const started = Date.now()
console.log(
  `sharedmem benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB${QUICK ? ' (quick)' : ''}\n`
)
try {
  await localReadsAndWrites()
  await replication()
  await signing()
  await sync(QUICK ? 20_000 : 100_000)
  if (!QUICK) await sync(1_000_000)
} finally {
  killChildren()
}
writeFileSync(
  new URL('./results.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: QUICK, rows }, null, 2)}\n`
)
console.log(`\n${rows.length} figures in ${Math.round((Date.now() - started) / 1000)} s; written to bench/results.json`)
