// One benchmark peer process, driven by run.mjs over IPC. It embeds a peer
// (the built library in ../dist) and answers commands; it never decides anything.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { SharedMemRateLimitStore } from '../dist/adapters/rate-limit.js'
import { createPeer } from '../dist/index.js'
import { serve } from './ipc.mjs'

const now = () => performance.timeOrigin + performance.now()
/** The most value bytes a full-rate writer saves in one turn of the event loop. */
const TURN_BYTES = 1 << 20
/** RSS samples, 500 ms apart, before memory counts as settled (BENCH_TINY: the plumbing test, which measures nothing). */
const SETTLE_SAMPLES = process.env.BENCH_TINY === '1' ? 4 : 16
/** Keys a read-latency case draws (a power of two), read over and over. */
const SAMPLES = 1 << 20

/**
 * SAMPLES keys of k0…k(n−1): uniform, or Zipf(0.99) by rank (inverse CDF), the ranks given to
 * the keys in a random order so that the hot keys lie anywhere in the store.
 */
function sampleKeys(n, zipf) {
  if (!zipf) return Array.from({ length: SAMPLES }, () => `k${Math.floor(Math.random() * n)}`)
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += (i + 1) ** -0.99
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return Array.from({ length: SAMPLES }, () => {
    const u = Math.random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return `k${order[lo]}`
  })
}

let peer
/** Every sync round this peer ended, with when (host clock). */
const roundLog = []
let watch
let limitStore
let busySince = performance.eventLoopUtilization()
let cpuSince = process.cpuUsage()

const handlers = {
  async start({ bootstrap = [], options = {} }) {
    // Each case wires its own topology by bootstrap address: no same-host discovery.
    peer = await createPeer({ bootstrap, rendezvous: false, ...options })
    peer.on('sync', (round) => roundLog.push({ ...round, at: now() }))
    return { peerId: peer.peerId, address: peer.addresses[0] }
  },
  async waitPeers({ count, timeout = 30_000 }) {
    const deadline = Date.now() + timeout
    while (peer.status().peers.length < count && Date.now() < deadline) await sleep(20)
    return peer.status().peers.length
  },
  /** Local reads and writes on a peer alone (what they cost before any network), in ops/s. */
  async local({ keys, value, reads, awaitedReads, writes, awaitedWrites }) {
    for (let i = 0; i < keys; i++) await peer.save({ collection: 'c', key: `k${i}`, variable: value })
    const rate = (n, t) => n / ((now() - t) / 1000)
    let t = now()
    for (let i = 0; i < reads; i++) peer.getSync({ collection: 'c', key: `k${i % keys}` })
    const getSync = rate(reads, t)
    t = now()
    for (let i = 0; i < awaitedReads; i++) await peer.get({ collection: 'c', key: `k${i % keys}` })
    const get = rate(awaitedReads, t)
    t = now()
    for (let i = 0; i < writes; i++) {
      peer.save({ collection: 'w', key: `k${i % 50_000}`, variable: value })
      if (i % 10_000 === 9_999) await new Promise(setImmediate)
    }
    const save = rate(writes, t)
    t = now()
    for (let i = 0; i < awaitedWrites; i++) await peer.save({ collection: 'w', key: `k${i % 50_000}`, variable: value })
    return { getSync, get, save, saveAwaited: rate(awaitedWrites, t) }
  },
  /** Saves n distinct values of `size` bytes (as Redis stores each copy, no value is shared), letting each batch of 10k flush. */
  async fill({ n, size, collection = 'fill' }) {
    const started = now()
    for (let i = 0; i < n; i++) {
      peer.save({ collection, key: `k${i}`, variable: String(i).padStart(size, 'x') })
      if (i % 10_000 === 9_999) await sleep(0)
    }
    await sleep(0)
    return { ms: now() - started }
  },
  /** CPU time this process used since the last call, in µs (user + system). */
  cpu() {
    const used = process.cpuUsage(cpuSince)
    cpuSince = process.cpuUsage()
    return used.user + used.system
  },
  /**
   * Mean latency of `reads` getSync calls on keys k0…k(n−1) of `collection`, in ns: drawn
   * uniformly, or by a Zipf(0.99) law over a random order of the keys (`zipf`: what real traffic
   * looks like, a few keys read most).
   */
  readLatency({ n, reads, collection = 'fill', zipf = false }) {
    const keys = sampleKeys(n, zipf)
    const started = process.hrtime.bigint()
    let found = 0
    // Counted as bareReads counts: a read that found nothing must not pass for a fast one.
    for (let i = 0; i < reads; i++) if (peer.getSync({ collection, key: keys[i & (SAMPLES - 1)] }) !== null) found++
    if (found !== reads) throw new Error(`readLatency: ${reads - found} keys missing`)
    return Number(process.hrtime.bigint() - started) / reads
  },
  /** The physical limit for reads: the same data in a bare nested Map (collection → key → value) in this process, no peer. */
  async bareMap({ n, size }) {
    const data = new Map([['fill', new Map()]])
    const inner = data.get('fill')
    for (let i = 0; i < n; i++) {
      inner.set(`k${i}`, String(i).padStart(size, 'x'))
      if (i % 10_000 === 9_999) await sleep(0)
    }
    globalThis.bare = data
  },
  /** Mean latency of `reads` reads of {@link bareMap}'s data, drawn as {@link readLatency} draws them, in ns. */
  bareReads({ n, reads, zipf = false }) {
    const data = globalThis.bare
    const keys = sampleKeys(n, zipf)
    const started = process.hrtime.bigint()
    let found = 0
    for (let i = 0; i < reads; i++) if (data.get('fill')?.get(keys[i & (SAMPLES - 1)]) !== undefined) found++
    if (found !== reads) throw new Error(`bareReads: ${reads - found} keys missing`)
    return Number(process.hrtime.bigint() - started) / reads
  },
  /** The share of time the event loop was busy since the last call (0–1). */
  busy() {
    const previous = busySince
    busySince = performance.eventLoopUtilization()
    return performance.eventLoopUtilization(busySince, previous).utilization
  },
  /** process.memoryUsage() after a full GC, in MiB. */
  memory() {
    globalThis.gc?.()
    return Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 2 ** 20)]))
  },
  digest() {
    return peer.status().digest
  },
  status() {
    return peer.status()
  },
  /**
   * Starts waiting for `expect` more entries. With `listen`, a change listener counts the
   * writes to `collection` and records each one's visibility latency (values carry their send
   * time `t`): what a peer pays for an entry object and a decoded value per write. Without, the
   * collection's size is polled every millisecond, as the Redis cases poll replication offsets (no
   * listener: what replication alone costs), and the latency is sampled: every `every`-th key
   * `${prefix}${i}` of `collection` is read as it appears, to within the poll's millisecond
   * (`every: 0`: none).
   */
  watch({ collection, expect, listen = false, prefix = 'w', every = 100 }) {
    const latencies = []
    let resolve
    const done = new Promise((r) => {
      resolve = r
    })
    watch = { latencies, done, received: 0, lastAt: 0, stop: () => {} }
    if (listen) {
      const listener = (e) => {
        if (e.collection !== collection || e.type !== 'save') return
        const at = now()
        latencies.push(at - e.value.t)
        watch.lastAt = at
        if (++watch.received === expect) resolve()
      }
      peer.on('change', listener)
      watch.stop = () => peer.off('change', listener)
      return true
    }
    const size = () => peer.collectionSizes()[collection] ?? 0
    const base = size()
    let next = every - 1
    let timer
    const poll = () => {
      const at = now()
      while (every > 0 && next < expect) {
        const value = peer.getSync({ collection, key: `${prefix}${next}` })
        if (value === null) break
        latencies.push(at - value.t)
        next += every
      }
      const received = Math.min(size() - base, expect)
      // As with the listener, lastAt is when the last entry seen arrived (also when some never do).
      if (received > watch.received) watch.lastAt = at
      watch.received = received
      if (received === expect) resolve()
      else timer = setTimeout(poll, 1)
    }
    watch.stop = () => clearTimeout(timer)
    poll()
    return true
  },
  async watched({ timeout = 120_000 }) {
    await Promise.race([watch.done, sleep(timeout)])
    watch.stop()
    return { received: watch.received, lastAt: watch.lastAt, latencies: watch.latencies }
  },
  /**
   * Writes n entries of `size` bytes at `rate` per second (0 = as fast as possible);
   * `sparse` yields to the event loop after every write, so each goes in its own message.
   */
  async write({ n, size, rate, collection, sparse = false, prefix = 'w' }) {
    const pad = 'x'.repeat(Math.max(size - 40, 0))
    const started = now()
    if (sparse) {
      for (let i = 0; i < n; i++) {
        peer.save({ collection, key: `${prefix}${i}`, variable: { t: now(), pad } })
        await new Promise(setImmediate)
      }
      return { startedAt: started, ms: now() - started }
    }
    // At full rate, 1,000 saves a turn, or 1 MiB of values: 1,000 saves of 100 KB held the event loop
    // (and so every socket) for hundreds of milliseconds a turn, and the rate measured that stall.
    const perTick =
      rate === 0 ? Math.max(1, Math.min(1000, Math.floor(TURN_BYTES / size))) : Math.max(1, Math.round(rate / 1000))
    for (let i = 0; i < n; ) {
      for (let j = 0; j < perTick && i < n; j++, i++)
        peer.save({ collection, key: `${prefix}${i}`, variable: { t: now(), pad } })
      if (rate === 0) await sleep(0)
      else {
        const due = started + (i / rate) * 1000
        const wait = due - now()
        await sleep(wait > 1 ? wait : 0)
      }
    }
    return { startedAt: started, ms: now() - started }
  },
  /** Measures how long the event loop was blocked while `digest` catches up with `target`. */
  async catchUp({ target, timeout = 600_000 }) {
    // Every millisecond: at 10, a block that began just after a sample was read as up to 10 ms shorter.
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const started = now()
    const elu = performance.eventLoopUtilization()
    while (peer.status().digest !== target && now() - started < timeout) await sleep(20)
    histogram.disable()
    return {
      ms: now() - started,
      maxBlockMs: histogram.max / 1e6,
      synced: peer.status().digest === target,
      busy: performance.eventLoopUtilization(elu).utilization
    }
  },
  /**
   * A late joiner's end of the join: polls until `collection` holds `n` entries here and `rounds`
   * sync rounds have ended (one per peer met: the join is over once they all are); resolves the
   * time that took from `since` (a host-clock time), and this peer's sync figures.
   */
  async joined({ collection, n, rounds, since, timeout = 120_000 }) {
    const deadline = now() + timeout
    let filledAt
    while (now() < deadline) {
      const { sync } = peer.status()
      if (filledAt === undefined && (peer.collectionSizes()[collection] ?? 0) >= n) filledAt = now()
      if (filledAt !== undefined && sync.rounds + sync.failures >= rounds) break
      await sleep(10)
    }
    return { ms: filledAt === undefined ? undefined : filledAt - since, sync: peer.status().sync, rounds: roundLog }
  },
  /** One sync round with every peer; the bytes it moved (both directions, this side's view). */
  async syncRound() {
    const before = peer.status().sync
    await peer.syncNow()
    const after = peer.status().sync
    return {
      bytes: after.bytesSent - before.bytesSent + after.bytesReceived - before.bytesReceived,
      inSync: after.lastRoundInSync
    }
  },
  /** Increments `counter` n times (one message per event-loop turn's worth), then resolves. */
  async incr({ counter, n }) {
    const started = now()
    for (let i = 0; i < n; i++) {
      peer.increment({ counter })
      if (i % 1000 === 999) await sleep(0)
    }
    return { startedAt: started }
  },
  /** Resolves when `counter` reaches `target` here (or the time limit passes). */
  async waitCounter({ counter, target, timeout = 120_000 }) {
    const started = now()
    while (peer.getCounterSync({ counter }) !== target && now() - started < timeout) await sleep(5)
    return { at: now(), value: peer.getCounterSync({ counter }) }
  },
  /** One hit on `key` through sharedmem/rate-limit's store (a window of `windowMs`); resolves its totalHits. */
  async hit({ key, windowMs }) {
    limitStore ??= new SharedMemRateLimitStore({ peer, prefix: 'bench:' })
    limitStore.init({ windowMs })
    return (await limitStore.increment(key)).totalHits
  },
  /**
   * From `startAt` (ms since the epoch, the same moment in every process) for `ms`, hits `key` at
   * `rate` per second, as a limiter of `limit` per window would: a hit is admitted when the count
   * it gets back is at most `limit`. Resolves the hits made and admitted, and over what time.
   */
  async hammer({ key, windowMs, limit, rate, ms, startAt }) {
    limitStore ??= new SharedMemRateLimitStore({ peer, prefix: 'bench:' })
    limitStore.init({ windowMs })
    await sleep(Math.max(startAt - Date.now(), 0))
    const started = now()
    let attempts = 0
    let admitted = 0
    while (now() - started < ms) {
      const due = Math.floor(((now() - started) / 1000) * rate)
      for (; attempts < due; attempts++) if ((await limitStore.increment(key)).totalHits <= limit) admitted++
      await sleep(1)
    }
    return { attempts, admitted, ms: now() - started }
  },
  /**
   * RSS right away, and once settled: gossipsub keeps each published message for five
   * heartbeats of 1 s (mcache) and the allocator returns freed buffers after that, so it
   * samples RSS (after a full GC) every 500 ms for at least 8 s, then until it has not fallen
   * by 1 MiB in 2 s (at most 20 s in all).
   */
  async rss() {
    globalThis.gc?.()
    const peak = process.memoryUsage().rss
    const samples = [peak]
    for (let i = 0; i < 40; i++) {
      await sleep(500)
      globalThis.gc?.()
      samples.push(process.memoryUsage().rss)
      if (samples.length > SETTLE_SAMPLES && samples.at(-5) - samples.at(-1) < 2 ** 20) break
    }
    return { peak, settled: samples.at(-1) }
  },
  async stop() {
    await peer?.stop()
    setImmediate(() => process.exit(0))
    return true
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

serve(handlers)
