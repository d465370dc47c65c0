// The transport's own cost per replicated write, apart from sharedmem's work (docs/benchmarks.md,
// "What limits what"): PEERS processes (3 unless said) whose libp2p nodes are built by the peer's
// own createNode (TCP, noise, yamux, gossipsub with the peer's settings), each connected to every
// other, as announcements connect a swarm's peers; a receiver forwards nothing to the peers the
// publisher sent the message to itself, as in a swarm. The first publishes MESSAGES messages per
// round of WRITES × BYTES bytes (a batch of that many writes), one per event-loop turn; the others
// only count them. Prints, per round, the equivalent writes/s and CPU µs per write of the writer,
// of a receiver (their mean), per process and summed; then the first two rounds (where the bench
// measures its fresh and its warm write rates), the median of the rest, and the CPU per write that
// the machine's cores allow at the write-rate targets. Run on demand: node bench/floor.mjs (after
// npm install); PEERS=2, PEERS=8 for the floor of the peers table. RATE=1000 WRITES=1 BYTES=250
// publishes RATE messages a second instead of as fast as it can, each stamped with its send time,
// and prints the delivery latency's percentiles (the floor of the visibility cases: one save of
// 200 B a message at 1,000 writes/s; WRITES=10 BYTES=202 for the 10,000 writes/s case's batches)
// and the longest event-loop block of the writer and of the receivers.
import { fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { connect, serve } from './ipc.mjs'

const ROUNDS = Number(process.env.ROUNDS ?? 6)
const MESSAGES = Number(process.env.MESSAGES ?? 100)
/**
 * Writes per message and bytes per write: by default the replication case's batches, whose UPDATES
 * message for 1,000 saves of its 200 B values (`{t, pad}`, keys `w0`…) measures 202,062 bytes;
 * WRITES=5 BYTES=100000 is the batch of the values table's 100 KB case (a batch holds 512 KiB at most).
 */
const WRITES = Number(process.env.WRITES ?? 1000)
const BYTES = Number(process.env.BYTES ?? 202)
const TOPIC = 'floor'
/** Processes in the swarm: one writer, the rest receivers. */
const PEERS = Number(process.env.PEERS ?? 3)
/** Messages a second, each stamped with its send time (host clock); 0: as fast as they go. */
const RATE = Number(process.env.RATE ?? 0)
/** Where a message carries its send time (after the 8 bytes that make it distinct). */
const STAMP_AT = 8
const now = () => performance.timeOrigin + performance.now()
if (!Number.isInteger(PEERS) || PEERS < 2) {
  console.error(
    `PEERS must be a whole number of processes, 2 or more (one writer and its receivers): ${process.env.PEERS}`
  )
  process.exit(2)
}

async function child() {
  const { createNode } = await import('../dist/peer/node.js')
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { multiaddr } = await import('@multiformats/multiaddr')
  /** Every message's publisher and the peers it sent it to: in this swarm, the writer and everyone. */
  let direct
  const node = await createNode({
    directRecipients: () => direct,
    privateKey: await generateKeyPair('Ed25519'),
    listen: [multiaddr('/ip4/127.0.0.1/tcp/0')],
    maxMessageBytes: 8 << 20,
    maxOutboundBuffer: 64 << 20,
    signMessages: false
  })
  await node.start()
  const pubsub = node.services.pubsub
  pubsub.subscribe(TOPIC)
  let received = 0
  /** Delivery latencies of stamped messages since last asked, in ms. */
  const latencies = []
  // Sampled every millisecond, as the bench samples a joiner's.
  const blocks = monitorEventLoopDelay({ resolution: 1 })
  blocks.enable()
  /** Resolves whoever waits for a count of messages received, once it is reached. */
  const waiting = new Set()
  pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic !== TOPIC) return
    const { data } = evt.detail
    if (RATE > 0) latencies.push(now() - new DataView(data.buffer, data.byteOffset).getFloat64(STAMP_AT))
    received++
    for (const w of waiting) if (received >= w.count) w.resolve()
  })
  serve({
    address: () => node.getMultiaddrs()[0].toString(),
    peerId: () => node.peerId.toString(),
    dial: async ({ address }) => void (await node.dial(multiaddr(address))),
    direct: ({ publisher, peers }) => {
      direct = { publisher, peers }
    },
    meshPeers: () => pubsub.getMeshPeers(TOPIC).length,
    received: () => received,
    latencies: () => latencies.splice(0),
    /** The longest event-loop block since last asked, in ms. */
    longestBlock: () => {
      const ms = blocks.max / 1e6
      blocks.reset()
      return ms
    },
    /** Resolves true once `count` messages were received in all, false after `timeout` ms. */
    until: ({ count, timeout }) =>
      new Promise((resolve) => {
        const w = {
          count,
          resolve: () => {
            clearTimeout(timer)
            waiting.delete(w)
            resolve(true)
          }
        }
        const timer = setTimeout(() => {
          waiting.delete(w)
          resolve(false)
        }, timeout)
        waiting.add(w)
        if (received >= count) w.resolve()
      }),
    cpu: () => {
      const used = process.cpuUsage()
      return used.user + used.system
    },
    publish: async ({ messages }) => {
      const started = now()
      for (let m = 0; m < messages; m++) {
        // Distinct messages (gossipsub drops one it has seen), made before the publish.
        const data = new Uint8Array(Math.max(WRITES * BYTES, STAMP_AT + 8))
        for (let i = 0; i < data.length; i += 64) data[i] = (Math.random() * 256) | 0
        const view = new DataView(data.buffer)
        view.setFloat64(0, Math.random())
        if (RATE > 0) view.setFloat64(STAMP_AT, now())
        await pubsub.publish(TOPIC, data)
        // Paced as the bench's writer paces its saves: a timer to the next one's time, a turn if it is due.
        const wait = RATE > 0 ? started + ((m + 1) / RATE) * 1000 - now() : 0
        await new Promise((resolve) => (wait > 1 ? setTimeout(resolve, wait) : setImmediate(resolve)))
      }
    },
    stop: async () => {
      await node.stop()
      setImmediate(() => process.exit(0))
    }
  })
}

const children = []
// Stopped by their PID however this run ends: a child's libp2p node would outlive its parent.
process.on('exit', () => {
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

async function main() {
  const start = async () => {
    const proc = fork(fileURLToPath(import.meta.url), ['child'], { stdio: 'inherit' })
    children.push(proc)
    return connect(proc)
  }
  try {
    const all = []
    for (let i = 0; i < PEERS; i++) all.push(await start())
    const [writer, ...receivers] = all
    const addresses = await Promise.all(all.map((p) => p.call('address')))
    const ids = await Promise.all(all.map((p) => p.call('peerId')))
    // A few tries each: libp2p refuses a host more than a few inbound connections a second.
    const dial = async (from, address) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await from.call('dial', { address })
        } catch (err) {
          if (attempt === 5) throw err
          await new Promise((resolve) => setTimeout(resolve, 1000))
        }
      }
    }
    for (let i = 1; i < PEERS; i++) for (let j = 0; j < i; j++) await dial(all[i], addresses[j])
    for (const p of all) await p.call('direct', { publisher: ids[0], peers: ids })
    // Until every process has its mesh (formed on its heartbeat: all the others, or gossipsub's
    // lower bound of 4 in a larger swarm), at most 10 s.
    const meshed = Math.min(PEERS - 1, 4)
    for (let i = 0; i < 100; i++) {
      const mesh = await Promise.all(all.map((p) => p.call('meshPeers')))
      if (mesh.every((m) => m >= meshed)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const sums = []
    const perProcess = []
    /** Delivery latencies of rounds 1 on (round 0 warms the processes up), in ms. */
    const latencies = []
    /** The longest event-loop block of rounds 1 on, in ms: the writer's and the receivers'. */
    const longest = { writer: 0, receivers: 0 }
    console.log(`${PEERS} processes; ${MESSAGES} messages of ${WRITES} writes × ${BYTES} B a round`)
    console.log('round  writes/s (equivalent)  CPU µs/write: writer  a receiver  per process     summed')
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(all.map((p) => p.call('longestBlock')))
      const before = await Promise.all(all.map((p) => p.call('cpu')))
      const had = await Promise.all(receivers.map((r) => r.call('received')))
      const started = performance.now()
      const arrived = receivers.map((r, j) => r.call('until', { count: had[j] + MESSAGES, timeout: 60_000 }))
      await writer.call('publish', { messages: MESSAGES })
      if (!(await Promise.all(arrived)).every(Boolean)) throw new Error(`round ${round}: messages missing after 60 s`)
      const ms = performance.now() - started
      const delivered = (await Promise.all(receivers.map((r) => r.call('latencies')))).flat()
      const [writerBlock, ...receiverBlocks] = await Promise.all(all.map((p) => p.call('longestBlock')))
      if (round > 0) {
        latencies.push(...delivered)
        longest.writer = Math.max(longest.writer, writerBlock)
        longest.receivers = Math.max(longest.receivers, ...receiverBlocks)
      }
      const after = await Promise.all(all.map((p) => p.call('cpu')))
      const writes = MESSAGES * WRITES
      const per = after.map((a, i) => (a - before[i]) / writes)
      const sum = per.reduce((a, b) => a + b, 0)
      sums.push(sum)
      perProcess.push(sum / PEERS)
      const receiver = (sum - per[0]) / (PEERS - 1)
      const cells = [per[0], receiver, sum / PEERS, sum].map((x, i) => x.toFixed(2).padStart([22, 12, 13, 11][i]))
      console.log(
        `${String(round).padStart(5)}  ${String(Math.round(writes / (ms / 1000))).padStart(21)}${cells.join('')}`
      )
    }
    // The bench's replication case measures its fresh figure on the first round of new processes
    // and its warm figure on the second: the floor at those two points is what its targets leave.
    const cores = availableParallelism()
    const budget = (rate) => ((cores * 1e6) / rate).toFixed(1)
    for (const [label, figures] of [
      ['summed', sums],
      ['per process', perProcess]
    ]) {
      console.log(
        `${label} CPU µs/write: round 0 (fresh processes) ${figures[0]?.toFixed(2)}, round 1 ${figures[1]?.toFixed(2)}`
      )
      const later = figures.slice(2).sort((a, b) => a - b)
      if (later.length === 0) continue
      const mid = later.length / 2
      const median = later.length % 2 === 1 ? later[Math.floor(mid)] : (later[mid - 1] + later[mid]) / 2
      console.log(
        `  rounds 2-${ROUNDS - 1}: median ${median.toFixed(2)}, min ${later[0].toFixed(2)}, max ${later.at(-1).toFixed(2)}`
      )
    }
    if (RATE > 0) {
      latencies.sort((a, b) => a - b)
      const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]?.toFixed(2)
      console.log(
        `delivery latency at ${RATE} messages/s, rounds 1-${ROUNDS - 1}: p50 ${at(50)}, p99 ${at(99)}, max ${at(100)} ms (${latencies.length} deliveries)`
      )
      console.log(
        `longest event-loop block, rounds 1-${ROUNDS - 1}: writer ${longest.writer.toFixed(1)} ms, receivers ${longest.receivers.toFixed(1)} ms`
      )
    }
    console.log(`  what ${cores} cores allow: ${budget(150_000)} µs at 150,000 writes/s, ${budget(120_000)} at 120,000`)
    for (const p of all) await p.call('stop').catch(() => {})
  } finally {
    for (const proc of children) if (proc.exitCode === null) proc.kill()
  }
}

if (process.argv[2] === 'child') await child()
else await main()
