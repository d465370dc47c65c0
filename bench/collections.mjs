// Memory by shape: what a peer costs per entry when its data is many small collections
// (per-user, per-tenant, per-namespace data) against one large collection, and per counter
// against an entry holding a number. Run on demand, after a build:
//   node --expose-gc bench/collections.mjs [N ...]     (default: 20000 100000)
// RSS and retained memory (JS heap and ArrayBuffers) are each read settled, before the writes
// and after. For each N: N collections of 3 keys and one collection of 3·N keys (200 B values), 3·N
// counters incremented once and 3·N entries holding a number. Prints a table with the ratios
// (#28's targets: ≤ 1.5× each); one process per row, so that each RSS figure starts from a fresh
// heap. SETTLE_MS (default 8000): how long RSS is sampled after the writes, as bench/run.mjs does.
import { fork } from 'node:child_process'

const SHAPES = {
  many: (n) => `${n} collections of 3 keys`,
  one: (n) => `1 collection of ${3 * n} keys`,
  counters: (n) => `${3 * n} counters`,
  numbers: (n) => `${3 * n} numbers in 1 collection`
}

/**
 * RSS and retained memory (JS heap and ArrayBuffers), settled as bench/run.mjs reads it: after a
 * full GC, sampled every 500 ms for `settle` ms (gossipsub keeps published messages for five
 * heartbeats) and until RSS stops falling.
 */
async function settled(settle) {
  const until = performance.now() + settle
  let best = { rss: Number.POSITIVE_INFINITY, retained: 0 }
  for (let sample = 0; sample < 120; sample++) {
    global.gc?.()
    const m = process.memoryUsage()
    if (m.rss >= best.rss && performance.now() >= until) break
    if (m.rss < best.rss) best = { rss: m.rss, retained: m.heapUsed + m.arrayBuffers }
    if (settle === 0) break
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return best
}

if (process.argv[2] === '--child') {
  const { createPeer } = await import('../dist/index.js')
  const shape = process.argv[3]
  const n = Number(process.argv[4])
  const settle = Number(process.env.SETTLE_MS ?? 8000)
  const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], rendezvous: false })
  const value = 'x'.repeat(200)
  const before = await settled(settle)
  const started = performance.now()
  for (let c = 0; c < n; c++) {
    for (let k = 0; k < 3; k++) {
      if (shape === 'many') peer.save({ collection: `user:${c}`, key: `k${k}`, variable: value })
      else if (shape === 'one') peer.save({ collection: 'one', key: `user:${c}:k${k}`, variable: value })
      else if (shape === 'counters') await peer.increment({ counter: `hits:${c}:${k}` })
      else peer.save({ collection: 'numbers', key: `hits:${c}:${k}`, variable: 1 })
    }
    if (c % 1000 === 999) await new Promise(setImmediate)
  }
  const ms = performance.now() - started
  const after = await settled(settle)
  await peer.stop()
  process.send({ ms, rss: after.rss - before.rss, retained: after.retained - before.retained })
} else {
  const sizes = process.argv.slice(2).map(Number)
  const run = async (shape, n) => {
    const child = fork(new URL(import.meta.url), ['--child', shape, String(n)], { execArgv: ['--expose-gc'] })
    const r = await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)))
    })
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
    const perItem = Math.round(r.rss / (3 * n))
    const retained = Math.round(r.retained / (3 * n))
    const cells = [
      SHAPES[shape](n).padEnd(32),
      (r.ms / 1000).toFixed(1).padStart(9),
      String(Math.round(r.rss / 1e6)).padStart(8),
      String(perItem).padStart(8),
      String(retained).padStart(10)
    ]
    console.log(cells.join(' '))
    return { perItem, retained }
  }
  const head = [
    'shape'.padEnd(32),
    'insert s'.padStart(9),
    'RSS MB'.padStart(8),
    'B/item'.padStart(8),
    'B retained'.padStart(10)
  ]
  console.log(head.join(' '))
  const ratio = (label, a, b) =>
    console.log(
      `${`  ${label}`.padEnd(32)} ${(a.perItem / b.perItem).toFixed(2).padStart(9)}× ${(a.retained / b.retained).toFixed(2).padStart(19)}×`
    )
  for (const n of sizes.length > 0 ? sizes : [20_000, 100_000]) {
    const many = await run('many', n)
    const one = await run('one', n)
    ratio('small / one per entry', many, one)
    const counters = await run('counters', n)
    const numbers = await run('numbers', n)
    ratio('counter / entry', counters, numbers)
  }
}
