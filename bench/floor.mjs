// The transport's own cost per replicated write, apart from sharedmem's work (docs/benchmarks.md,
// "What limits the rest"): three processes whose libp2p nodes are built by the peer's own
// createNode (TCP, noise, yamux, gossipsub with the peer's settings). The first publishes
// MESSAGES messages per round of WRITES × BYTES bytes (a batch of that many writes), one per
// event-loop turn; the other two only count them. Prints, per round, the equivalent writes/s and
// CPU µs per write of each process and summed. Run on demand: node bench/floor.mjs (after npm install).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { serve } from './ipc.mjs'

const ROUNDS = Number(process.env.ROUNDS ?? 6)
const MESSAGES = Number(process.env.MESSAGES ?? 100)
/** Writes per message and bytes per write: the replication case's batches of 200 B values. */
const WRITES = 1000
const BYTES = 230
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
  pubsub.addEventListener('message', (evt) => {
    if (evt.detail.topic === TOPIC) received++
  })
  serve({
    address: () => node.getMultiaddrs()[0].toString(),
    dial: async ({ address }) => void (await node.dial(multiaddr(address))),
    subscribers: () => pubsub.getSubscribers(TOPIC).length,
    received: () => received,
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

async function main() {
  const children = []
  const start = async () => {
    const proc = fork(fileURLToPath(import.meta.url), ['child'], { stdio: 'inherit' })
    children.push(proc)
    const pending = new Map()
    let next = 0
    await new Promise((resolve) => proc.once('message', resolve))
    proc.on('message', ({ id, result, error }) => {
      const p = pending.get(id)
      pending.delete(id)
      if (error === undefined) p?.resolve(result)
      else p?.reject(new Error(error))
    })
    return {
      call: (cmd, args) =>
        new Promise((resolve, reject) => {
          pending.set(next, { resolve, reject })
          proc.send({ id: next++, cmd, args })
        })
    }
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  try {
    const [writer, ...receivers] = [await start(), await start(), await start()]
    const address = await writer.call('address')
    for (const r of receivers) await r.call('dial', { address })
    await receivers[0].call('dial', { address: await receivers[1].call('address') })
    const all = [writer, ...receivers]
    for (let i = 0; i < 100; i++) {
      const counts = await Promise.all(all.map((p) => p.call('subscribers')))
      if (counts.every((c) => c === 2)) break
      await sleep(100)
    }
    await sleep(1500) // the mesh forms on gossipsub's heartbeat (1 s)
    const sums = []
    console.log('round  writes/s (equivalent)  CPU µs/write: writer  receiver  receiver  summed')
    for (let round = 0; round < ROUNDS; round++) {
      const before = await Promise.all(all.map((p) => p.call('cpu')))
      const had = await Promise.all(receivers.map((r) => r.call('received')))
      const started = performance.now()
      await writer.call('publish', { messages: MESSAGES })
      // Until both receivers have every message of the round, or 60 s.
      for (let i = 0; i < 60_000; i++) {
        const got = await Promise.all(receivers.map((r) => r.call('received')))
        if (got.every((g, j) => g - had[j] >= MESSAGES)) break
        await sleep(1)
      }
      const ms = performance.now() - started
      const after = await Promise.all(all.map((p) => p.call('cpu')))
      const writes = MESSAGES * WRITES
      const per = after.map((a, i) => (a - before[i]) / writes)
      const sum = per.reduce((a, b) => a + b, 0)
      if (round > 0) sums.push(sum)
      const cells = per.map((x) => x.toFixed(2).padStart(8)).join('  ')
      console.log(
        `${String(round).padStart(5)}  ${String(Math.round(writes / (ms / 1000))).padStart(21)}  ${cells}  ${sum.toFixed(2).padStart(6)}`
      )
    }
    sums.sort((a, b) => a - b)
    console.log(
      `summed CPU µs/write after the first round: median ${sums[Math.floor(sums.length / 2)]?.toFixed(2)}, min ${sums[0]?.toFixed(2)}, max ${sums.at(-1)?.toFixed(2)}`
    )
    for (const p of all) await p.call('stop').catch(() => {})
  } finally {
    for (const proc of children) if (proc.exitCode === null) proc.kill()
  }
}

if (process.argv[2] === 'child') await child()
else await main()
