// How many socket writes one gossip message costs the swarm: N embedded peers in this process,
// one of them saving one value per message (200 messages, 5 ms apart), every socket write of
// every peer counted. The publisher's own N − 1 are the floor; the rest are forwards, IDONTWANTs
// and yamux window updates, each an encrypted frame, a syscall, and a read on the other side.
//
//   node bench/frames.mjs [peers, default 2,4,8] [value bytes, default 160]
//
// Counts through Node's net.Socket.prototype._writeGeneric (internal, Node 20): a count, not a timing.
import net from 'node:net'
import { createPeer } from '../dist/index.js'

const counts = (process.argv[2] ?? '2,4,8').split(',').map(Number)
const valueBytes = Number(process.argv[3] ?? 160)
const MESSAGES = 200

let writes = 0
const write = net.Socket.prototype._writeGeneric
if (typeof write !== 'function')
  throw new Error('net.Socket.prototype._writeGeneric is gone: this count needs another hook')
net.Socket.prototype._writeGeneric = function (...args) {
  writes++
  return write.apply(this, args)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function measure(n) {
  const first = await createPeer({ rendezvous: false })
  const peers = [first]
  try {
    for (let i = 1; i < n; i++) peers.push(await createPeer({ rendezvous: false, bootstrap: [first.addresses[0]] }))
    const until = Date.now() + 30_000
    while (peers.some((p) => p.status().peers.length < n - 1)) {
      if (Date.now() > until) throw new Error(`${n} peers did not all meet in 30 s`)
      await sleep(50)
    }
    // The mesh forms on the heartbeats after the subscriptions (1 s apart).
    await sleep(3_000)
    writes = 0
    const pad = 'x'.repeat(valueBytes)
    for (let i = 0; i < MESSAGES; i++) {
      await first.save({ collection: 'frames', key: `k${i}`, variable: { i, pad } })
      await sleep(5)
    }
    await sleep(500)
    return writes / MESSAGES
  } finally {
    await Promise.all(peers.map((p) => p.stop()))
  }
}

console.log(`| peers | socket writes per gossip message (${valueBytes} B values) | the publisher's own |`)
console.log('| --- | --- | --- |')
for (const n of counts) console.log(`| ${n} | ${(await measure(n)).toFixed(1)} | ${n - 1} |`)
