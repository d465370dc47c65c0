// How cost grows (BENCH_SCALE=1): with the number of peers, the value size and the number of
// entries, each side by side with Redis in the same run. run.mjs passes its helpers in; every
// process started here is stopped here.
import { readFileSync } from 'node:fs'
import { waitReplicaCaughtUp, waitReplicaSynced } from './redis.mjs'

/** CPU time a process (by PID) has used so far, in µs, from /proc (Linux). */
function cpuOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/** Swarm sizes of the peers table (and its chart in run.mjs). */
export const PEER_COUNTS = [2, 4, 8, 16]

/** Counts of entries of the entries table: full, BENCH_QUICK=1, BENCH_TINY=1 (run.mjs). */
export const ENTRY_COUNTS = (quick, tiny) => (tiny ? [2_000] : quick ? [100_000] : [100_000, 1_000_000, 3_000_000])

/** `scaled(full, quick)`: a case's count at the run's scale (`quick`, `tiny`: BENCH_QUICK, BENCH_TINY; run.mjs). */
export function scaleCases({ worker, redis, stopRedis, record, now, scaled, quick, tiny }) {
  /** `count` sharedmem peers, each its own process, all bootstrapped to the first. */
  async function swarm(count) {
    const peers = [await worker()]
    const { address } = await peers[0].call('start')
    for (let i = 1; i < count; i++) {
      peers.push(await worker())
      await peers[i].call('start', { bootstrap: [address] })
    }
    for (const p of peers) await p.call('waitPeers', { count: count - 1, timeout: 60_000 })
    // Warm-up, not recorded: V8 compiles the hot paths as they first run (as in the replication case).
    await converge(peers, count, scaled(20_000, 5_000), 200, 'warm-up')
    return peers
  }

  /**
   * Writes `n` entries of `size` bytes spread over `writers` (the first peers), every peer
   * watching for all of them; resolves converged writes/s, CPU µs per write summed over the
   * processes, and whether every peer got every write.
   */
  async function converge(peers, writers, n, size, collection) {
    const each = Math.floor(n / writers)
    const total = each * writers
    await Promise.all(peers.map((p) => p.call('watch', { collection, expect: total, every: 0 })))
    await Promise.all(peers.map((p) => p.call('cpu')))
    const runs = await Promise.all(
      peers.slice(0, writers).map((p, i) => p.call('write', { n: each, size, rate: 0, collection, prefix: `p${i}-` }))
    )
    const results = await Promise.all(peers.map((p) => p.call('watched', {})))
    const cpu = (await Promise.all(peers.map((p) => p.call('cpu')))).reduce((a, b) => a + b, 0)
    const startedAt = Math.min(...runs.map((r) => r.startedAt))
    const spanMs = Math.max(...results.map((r) => r.lastAt)) - startedAt
    const complete = results.every((r) => r.received === total)
    return {
      rate: total / (spanMs / 1000),
      cpuPerWrite: cpu / total,
      note: complete
        ? `${peers.length} processes, all writes everywhere`
        : `INCOMPLETE: ${results.map((r) => r.received).join('/')} of ${total}`
    }
  }

  /** A Redis primary and `replicas` replicas; SETs `n` values of `size` bytes (100 in flight) until every replica has them. */
  async function redisConverge(replicas, n, size) {
    const primary = await redis()
    const list = []
    for (let i = 0; i < replicas; i++) list.push(await redis({ replicaOf: primary.port }))
    for (const r of list) await waitReplicaSynced(r)
    const value = 'x'.repeat(size)
    // Warm-up, not recorded, as for sharedmem: the client's first commands cost more.
    for (let w = 0; w < 2_000; w += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => primary.client.set(`warm${w + j}`, value)))
    }
    for (const r of list) await waitReplicaCaughtUp(primary, r)
    const pids = [primary.pid, ...list.map((r) => r.pid)]
    const cpuBefore = pids.reduce((sum, pid) => sum + cpuOf(pid), 0)
    const started = now()
    let i = 0
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        while (i < n) await primary.client.set(`s${i++}`, value)
      })
    )
    for (const r of list) await waitReplicaCaughtUp(primary, r)
    const ms = now() - started
    const cpu = pids.reduce((sum, pid) => sum + cpuOf(pid), 0) - cpuBefore
    await stopRedis(...list, primary)
    return { rate: n / (ms / 1000), cpuPerWrite: cpu / n }
  }

  async function peersTable() {
    const n = scaled(50_000, 10_000)
    for (const count of tiny ? PEER_COUNTS.slice(0, 2) : PEER_COUNTS) {
      const peers = await swarm(count)
      const one = await converge(peers, 1, n, 200, `one${count}`)
      record(
        'scale · peers',
        `sharedmem ${count} peers, one writer: converged writes/s`,
        one.rate,
        'writes/s',
        one.note
      )
      record(
        'scale · peers',
        `sharedmem ${count} peers, one writer: CPU per write (all processes)`,
        one.cpuPerWrite,
        'µs'
      )
      record(
        'scale · peers',
        `sharedmem ${count} peers, one writer: CPU per write per process`,
        one.cpuPerWrite / count,
        'µs'
      )
      const all = await converge(peers, count, n, 200, `all${count}`)
      record(
        'scale · peers',
        `sharedmem ${count} peers, all writing: converged writes/s`,
        all.rate,
        'writes/s',
        all.note
      )
      record(
        'scale · peers',
        `sharedmem ${count} peers, all writing: CPU per write (all processes)`,
        all.cpuPerWrite,
        'µs'
      )
      await Promise.all(peers.map((p) => p.stop()))
      const r = await redisConverge(count - 1, n, 200)
      record('scale · peers', `Redis primary + ${count - 1} replicas: converged writes/s`, r.rate, 'writes/s')
      record(
        'scale · peers',
        `Redis primary + ${count - 1} replicas: CPU per write (all processes)`,
        r.cpuPerWrite,
        'µs'
      )
      record(
        'scale · peers',
        `Redis primary + ${count - 1} replicas: CPU per write per process`,
        r.cpuPerWrite / count,
        'µs'
      )
    }
  }

  async function valuesTable() {
    const peers = await swarm(3)
    const sizes = [100, 1_000, 10_000, 100_000]
    const counts = sizes.map((size) => Math.min(scaled(50_000, 10_000), Math.floor(scaled(100e6, 20e6) / size)))
    for (const [i, size] of sizes.entries()) {
      const r = await converge(peers, 1, counts[i], size, `v${size}`)
      const label = size >= 1000 ? `${size / 1000} KB` : `${size} B`
      record(
        'scale · values',
        `sharedmem ${label} values on 3 processes: converged writes/s`,
        r.rate,
        'writes/s',
        r.note
      )
      record(
        'scale · values',
        `sharedmem ${label} values on 3 processes: MB/s replicated`,
        (r.rate * size) / 1e6,
        'MB/s'
      )
      record(
        'scale · values',
        `sharedmem ${label} values on 3 processes: CPU per KB written (all processes)`,
        r.cpuPerWrite / (size / 1000),
        'µs'
      )
    }
    await Promise.all(peers.map((p) => p.stop()))
    for (const [i, size] of sizes.entries()) {
      const r = await redisConverge(2, counts[i], size)
      const label = size >= 1000 ? `${size / 1000} KB` : `${size} B`
      record('scale · values', `Redis ${label} values, primary + 2 replicas: converged writes/s`, r.rate, 'writes/s')
      record(
        'scale · values',
        `Redis ${label} values, primary + 2 replicas: MB/s replicated`,
        (r.rate * size) / 1e6,
        'MB/s'
      )
      record(
        'scale · values',
        `Redis ${label} values, primary + 2 replicas: CPU per KB written (all processes)`,
        r.cpuPerWrite / (size / 1000),
        'µs'
      )
    }
  }

  async function entriesTable() {
    const reads = scaled(1_000_000, 1_000_000)
    for (const n of ENTRY_COUNTS(quick, tiny)) {
      const count = n.toLocaleString('en-US')
      const full = await worker()
      const { address } = await full.call('start')
      const base = (await full.call('rss')).settled
      await full.call('fill', { n, size: 100 })
      const rss = (await full.call('rss')).settled
      record(
        'scale · entries',
        `sharedmem ${count} entries: getSync latency (random keys)`,
        await full.call('readLatency', { n, reads }),
        'ns'
      )
      record(
        'scale · entries',
        `sharedmem ${count} entries: getSync latency (Zipf 0.99 keys)`,
        await full.call('readLatency', { n, reads, zipf: true }),
        'ns'
      )
      record('scale · entries', `sharedmem ${count} entries: RSS per entry`, (rss - base) / n, 'bytes')
      const target = await full.call('digest')
      const joiner = await worker()
      await joiner.call('start', { bootstrap: [address] })
      const caught = await joiner.call('catchUp', { target })
      record(
        'scale · entries',
        `sharedmem ${count} entries: fresh peer join`,
        caught.ms,
        'ms',
        caught.synced ? '' : 'DID NOT CONVERGE'
      )
      await Promise.all([full.stop(), joiner.stop()])

      const bare = await worker()
      const bareBase = (await bare.call('rss')).settled
      await bare.call('bareMap', { n, size: 100 })
      const bareRss = (await bare.call('rss')).settled
      record(
        'scale · entries',
        `bare nested Map, ${count} entries: read latency (random keys)`,
        await bare.call('bareReads', { n, reads }),
        'ns'
      )
      record(
        'scale · entries',
        `bare nested Map, ${count} entries: read latency (Zipf 0.99 keys)`,
        await bare.call('bareReads', { n, reads, zipf: true }),
        'ns'
      )
      record('scale · entries', `bare nested Map, ${count} entries: RSS per entry`, (bareRss - bareBase) / n, 'bytes')
      await bare.stop()

      const primary = await redis()
      const empty = Number((await primary.info('memory')).used_memory_rss)
      const value = 'x'.repeat(100)
      for (let i = 0; i < n; i += 1000) {
        await primary.client.mset(
          ...Array.from({ length: Math.min(1000, n - i) }, (_, j) => [`fill:k${i + j}`, value]).flat()
        )
      }
      const filled = Number((await primary.info('memory')).used_memory_rss)
      let t = now()
      const gets = scaled(5_000, 5_000)
      for (let i = 0; i < gets; i++) await primary.client.get(`fill:k${Math.floor(Math.random() * n)}`)
      record(
        'scale · entries',
        `Redis ${count} entries: GET latency (sequential, random keys)`,
        ((now() - t) / gets) * 1e6,
        'ns'
      )
      record('scale · entries', `Redis ${count} entries: RSS per entry`, (filled - empty) / n, 'bytes')
      t = now()
      const replica = await redis({ replicaOf: primary.port })
      await waitReplicaSynced(replica)
      record('scale · entries', `Redis ${count} entries: fresh replica full sync`, now() - t, 'ms')
      await stopRedis(replica, primary)
    }
  }

  return { peersTable, valuesTable, entriesTable }
}
