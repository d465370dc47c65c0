// Many small collections (per-user, per-tenant, per-namespace data): what a peer holding
// N collections of 3 keys costs in memory and insert time. Run on demand, after a build:
//   node --expose-gc bench/collections.mjs [N ...]     (default: 20000 100000)
// Prints a table; one process per N, so that each RSS figure starts from a fresh heap.
import { fork } from 'node:child_process'

if (process.argv[2] === '--child') {
  const { createPeer } = await import('../dist/index.js')
  const n = Number(process.argv[3])
  const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], rendezvous: false })
  const value = 'x'.repeat(200)
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const started = performance.now()
  for (let c = 0; c < n; c++) {
    for (let k = 0; k < 3; k++) peer.save({ collection: `user:${c}`, key: `k${k}`, variable: value })
    if (c % 1000 === 999) await new Promise(setImmediate)
  }
  const ms = performance.now() - started
  global.gc?.()
  const rss = process.memoryUsage().rss - rss0
  await peer.stop()
  process.send({ n, ms, rss })
} else {
  const sizes = process.argv.slice(2).map(Number)
  console.log(
    `${'collections'.padStart(12)} ${'entries'.padStart(9)} ${'insert s'.padStart(9)} ${'RSS MB'.padStart(8)} ${'B/entry'.padStart(8)}`
  )
  for (const n of sizes.length > 0 ? sizes : [20_000, 100_000]) {
    const child = fork(new URL(import.meta.url), ['--child', String(n)], { execArgv: ['--expose-gc'] })
    const r = await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', (code) => reject(new Error(`child exited ${code}`)))
    })
    await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
    const row = [n, 3 * n, (r.ms / 1000).toFixed(1), Math.round(r.rss / 1e6), Math.round(r.rss / (3 * n))]
    console.log(
      `${String(row[0]).padStart(12)} ${String(row[1]).padStart(9)} ${row[2].padStart(9)} ${String(row[3]).padStart(8)} ${String(row[4]).padStart(8)}`
    )
  }
}
