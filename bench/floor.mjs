// The transport's own cost per replicated write, apart from sharedmem's work (docs/benchmarks.md,
// "What limits the rest"): three processes whose libp2p nodes are built by the peer's own
// createNode (TCP, noise, yamux, gossipsub with the peer's settings). The first publishes
// MESSAGES messages per round of WRITES × BYTES bytes (a batch of that many writes), one per
// event-loop turn; the other two only count them. Prints, per round, the equivalent writes/s and
// CPU µs per write of each process and summed; then the first two rounds (where the bench measures
// its fresh and its warm write rates), the median of the rest, and the CPU per write that the
// machine's cores allow at the write-rate targets. Run on demand: node bench/floor.mjs (after npm install).
import { fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
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

async function child() {
  const { createNode } = await import('../dist/peer/node.js')
  const { generateKeyPair } = await import('@libp2p/crypto/keys')
  const { multiaddr } = await import('@multiformats/multiaddr')
  const node = await createNode({
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
  /** Resolves whoever waits for a count of messages received, once it is reached. */
  const waiting = new Set()
  pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic !== TOPIC) return
    received++
    for (const w of waiting) if (received >= w.count) w.resolve()
  })
  serve({
    address: () => node.getMultiaddrs()[0].toString(),
    dial: async ({ address }) => void (await node.dial(multiaddr(address))),
    meshPeers: () => pubsub.getMeshPeers(TOPIC).length,
    received: () => received,
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
      for (let m = 0; m < messages; m++) {
        // Distinct messages (gossipsub drops one it has seen), made before the publish.
        const data = new Uint8Array(WRITES * BYTES)
        for (let i = 0; i < data.length; i += 64) data[i] = (Math.random() * 256) | 0
        data.set(new Uint8Array(new Float64Array([Math.random()]).buffer), 0)
        await pubsub.publish(TOPIC, data)
        await new Promise(setImmediate)
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
    const [writer, ...receivers] = [await start(), await start(), await start()]
    const address = await writer.call('address')
    for (const r of receivers) await r.call('dial', { address })
    await receivers[0].call('dial', { address: await receivers[1].call('address') })
    const all = [writer, ...receivers]
    // Until every process has the other two in its gossipsub mesh (formed on its heartbeat), at most 10 s.
    for (let i = 0; i < 100; i++) {
      const mesh = await Promise.all(all.map((p) => p.call('meshPeers')))
      if (mesh.every((m) => m === 2)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const sums = []
    console.log(`${MESSAGES} messages of ${WRITES} writes × ${BYTES} B a round`)
    console.log('round  writes/s (equivalent)  CPU µs/write: writer  receiver  receiver  summed')
    for (let round = 0; round < ROUNDS; round++) {
      const before = await Promise.all(all.map((p) => p.call('cpu')))
      const had = await Promise.all(receivers.map((r) => r.call('received')))
      const started = performance.now()
      const arrived = receivers.map((r, j) => r.call('until', { count: had[j] + MESSAGES, timeout: 60_000 }))
      await writer.call('publish', { messages: MESSAGES })
      if (!(await Promise.all(arrived)).every(Boolean)) throw new Error(`round ${round}: messages missing after 60 s`)
      const ms = performance.now() - started
      const after = await Promise.all(all.map((p) => p.call('cpu')))
      const writes = MESSAGES * WRITES
      const per = after.map((a, i) => (a - before[i]) / writes)
      const sum = per.reduce((a, b) => a + b, 0)
      sums.push(sum)
      const cells = per.map((x) => x.toFixed(2).padStart(8)).join('  ')
      console.log(
        `${String(round).padStart(5)}  ${String(Math.round(writes / (ms / 1000))).padStart(21)}  ${cells}  ${sum.toFixed(2).padStart(6)}`
      )
    }
    // The bench's replication case measures its fresh figure on the first round of new processes
    // and its warm figure on the second: the floor at those two points is what its targets leave.
    const later = sums.slice(2).sort((a, b) => a - b)
    const cores = availableParallelism()
    const budget = (rate) => ((cores * 1e6) / rate).toFixed(1)
    console.log(`summed CPU µs/write: round 0 (fresh processes) ${sums[0]?.toFixed(2)}, round 1 ${sums[1]?.toFixed(2)}`)
    if (later.length > 0) {
      const mid = later.length / 2
      const median = later.length % 2 === 1 ? later[Math.floor(mid)] : (later[mid - 1] + later[mid]) / 2
      console.log(
        `  rounds 2-${ROUNDS - 1}: median ${median.toFixed(2)}, min ${later[0].toFixed(2)}, max ${later.at(-1).toFixed(2)}`
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
