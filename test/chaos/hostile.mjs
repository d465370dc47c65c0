// A hostile peer for the chaos run: it joins the swarm's gossip topic and, until SIGTERM, publishes
// garbage, truncated, oversize and far-future messages, and opens sync streams with malformed
// frames. Its own writes all go to the collection "evil", which must stay empty everywhere.
// Usage: node hostile.mjs <listen host> <p2p address>… ; prints one JSON line of what it sent.
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import '../../dist/polyfill.js'
import { encodeUpdates } from '../../dist/codec/index.js'
import { parseAddress } from '../../dist/peer/addresses.js'
import { createNode } from '../../dist/peer/node.js'
import { SYNC_PROTOCOL } from '../../dist/sync/index.js'

const TOPIC = 'sharedmem/default/updates/1'
const [host, ...targets] = process.argv.slice(2)
const node = await createNode({
  privateKey: await generateKeyPair('Ed25519'),
  listen: [parseAddress(`/ip4/${host}/tcp/0`)],
  maxMessageBytes: 16 * 1024 * 1024,
  maxOutboundBuffer: 64 * 1024 * 1024,
  signMessages: false
})
await node.start()
node.services.pubsub.subscribe(TOPIC)
const me = node.peerId.toString()
const sent = { garbage: 0, truncated: 0, oversize: 0, future: 0, sync: 0, failed: 0 }

const entry = (overrides) => ({
  update: {
    collection: 'evil',
    key: `k${Math.random()}`,
    wall: Date.now(),
    logical: 0,
    node: me,
    expiresAt: 0,
    deleted: false,
    value: 'x',
    ...overrides
  }
})

const attacks = {
  garbage: () => node.services.pubsub.publish(TOPIC, randomBytes(1 + Math.floor(Math.random() * 2000))),
  truncated: () => {
    const whole = encodeUpdates([entry({}), entry({})], [])
    return node.services.pubsub.publish(TOPIC, whole.subarray(0, Math.floor(whole.length / 2)))
  },
  oversize: () => node.services.pubsub.publish(TOPIC, encodeUpdates([entry({ value: 'x'.repeat(5 << 20) })], [])),
  future: () => node.services.pubsub.publish(TOPIC, encodeUpdates([entry({ wall: Date.now() + 3_600_000 })], [])),
  sync: async () => {
    const target = targets[Math.floor(Math.random() * targets.length)]
    const stream = await node.dialProtocol(multiaddr(target), SYNC_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    await pipe([randomBytes(1 + Math.floor(Math.random() * 200))], (s) => lp.encode(s), stream.sink)
    await stream.close()
  }
}
const kinds = Object.keys(attacks)

let running = true
process.once('SIGTERM', () => {
  running = false
})
const dialAll = () =>
  Promise.allSettled(targets.map((t) => node.dial(multiaddr(t), { signal: AbortSignal.timeout(5000) })))
await dialAll()
for (let round = 0; running && round < 100_000; round++) {
  if (round % 5 === 0) await dialAll() // peers restart: join them again, each second
  const kind = kinds[round % kinds.length]
  try {
    await attacks[kind]()
    sent[kind]++
  } catch {
    sent.failed++
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
}
process.stdout.write(`${JSON.stringify(sent)}\n`)
await node.stop()
process.exit(0)
