// Memory by shape: what a peer costs per entry when its data is many small collections
// (per-user, per-tenant, per-namespace data) against one large collection, and per counter
// against an entry holding a number. Run on demand, after a build:
//   node --expose-gc bench/collections.mjs [N ...]     (default: 20000 100000)
// For each N: N collections of 3 keys and one collection of 3·N keys (200 B values), 3·N
// counters incremented once and 3·N entries holding a number. Prints a table with the ratios
// (#28's targets: ≤ 1.5× each); one process per row, so that each RSS figure starts from a fresh heap.
import { fork } from 'node:child_process'

const SHAPES = {
  many: (n) => `${n} collections of 3 keys`,
  one: (n) => `1 collection of ${3 * n} keys`,
  counters: (n) => `${3 * n} counters`,
  numbers: (n) => `${3 * n} numbers in 1 collection`
}

if (process.argv[2] === '--child') {
  const { createPeer } = await import('../dist/index.js')
  const shape = process.argv[3]
  const n = Number(process.argv[4])
  const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], rendezvous: false })
  const value = 'x'.repeat(200)
  global.gc?.()
  const rss0 = process.memoryUsage().rss
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
  global.gc?.()
  const rss = process.memoryUsage().rss - rss0
  await peer.stop()
  process.send({ ms, rss })
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
    const cells = [
      SHAPES[shape](n).padEnd(32),
      (r.ms / 1000).toFixed(1).padStart(9),
      String(Math.round(r.rss / 1e6)).padStart(8)
    ]
    console.log(`${cells.join(' ')} ${String(perItem).padStart(8)}`)
    return perItem
  }
  console.log(`${'shape'.padEnd(32)} ${'insert s'.padStart(9)} ${'RSS MB'.padStart(8)} ${'B/item'.padStart(8)}`)
  for (const n of sizes.length > 0 ? sizes : [20_000, 100_000]) {
    const many = await run('many', n)
    const one = await run('one', n)
    console.log(`${'  small / one per entry'.padEnd(32)} ${(many / one).toFixed(2).padStart(9)}×`)
    const counters = await run('counters', n)
    const numbers = await run('numbers', n)
    console.log(`${'  counter / entry'.padEnd(32)} ${(counters / numbers).toFixed(2).padStart(9)}×`)
  }
}
