/**
 * An announcement storm from a raw libp2p node on the gossip topic: announcements
 * of 255 invented peers × 32 addresses each (the decoder's limits), every address
 * pointing at listeners of this test that count the connections the peers open.
 * The peers refuse most of it, open connections at a bounded rate, keep
 * replicating, and still join an honest peer announced after the storm.
 */
import { createServer, type Server } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeAnnounce, encodeUpdates, type PeerAddrs } from '../../src/codec/index.js'
import {
  DEFAULT_ANNOUNCED_ADDRS_PER_PEER,
  DEFAULT_ANNOUNCED_DIAL_BURST,
  DEFAULT_ANNOUNCED_DIAL_INTERVAL
} from '../../src/constants.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import { hostileNode, TOPIC } from '../fixtures/hostile.js'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const nodes: SharedMemNode[] = []
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  await stopAll()
})

/** Listens on 127.0.0.1 and a free port; counts the connections made to it and closes each at once. */
async function countingListener(counter: { connections: number }): Promise<number> {
  const server = createServer((socket) => {
    counter.connections++
    socket.destroy()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

const STORMS = 4
const PEERS_PER_STORM = 255
const ADDRS_PER_PEER = 32

describe('an announcement storm', () => {
  it('bounds the connections it makes peers open; replication goes on; an honest announced peer is joined', async () => {
    const t0 = performance.now()
    const counter = { connections: 0 }
    const ports = await Promise.all(Array.from({ length: ADDRS_PER_PEER }, () => countingListener(counter)))
    const invented = await Promise.all(
      Array.from({ length: STORMS * PEERS_PER_STORM }, async () =>
        peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      )
    )
    const [a, b] = await startPeers(2)
    const evil = await hostileNode()
    nodes.push(evil)
    evil.services.pubsub.subscribe(TOPIC)
    await evil.dial(multiaddr(a.addresses[0]))
    await waitFor(() => evil.services.pubsub.getSubscribers(TOPIC).length > 0, 'the hostile node to see the victim')

    for (let m = 0; m < STORMS; m++) {
      const peers: PeerAddrs[] = invented
        .slice(m * PEERS_PER_STORM, (m + 1) * PEERS_PER_STORM)
        .map((peerId) => ({ peerId, addrs: ports.map((port) => `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`) }))
      await evil.services.pubsub.publish(TOPIC, encodeAnnounce(peers, Date.now()))
    }
    // A well-formed write last: once it has arrived, every announcement before it has been handled.
    const probe = { collection: 'probe', key: 'k', wall: Date.now(), logical: 0, expiresAt: 0, deleted: false }
    const update = { ...probe, node: evil.peerId.toString(), value: 'after the storm' }
    await evil.services.pubsub.publish(TOPIC, encodeUpdates([{ update }], []))
    await waitFor(() => a.getSync({ collection: 'probe', key: 'k' }) === 'after the storm', 'the storm to be handled')

    await b.save({ collection: 'c', key: 'k', variable: 'during the storm' })
    await waitFor(() => a.getSync({ collection: 'c', key: 'k' }) === 'during the storm', 'replication')

    // An honest peer that dials nobody: only an announcement can bring the victim to it.
    const honest = await startPeer()
    const id = honest.peerId
    await evil.services.pubsub.publish(TOPIC, encodeAnnounce([{ peerId: id, addrs: honest.addresses }], Date.now()))
    await waitFor(() => a.status().peers.includes(id), 'the victim to join the honest peer')

    // Both peers hear the storm (a forwards it to b); each opens at most a burst of dials, then one
    // per interval, of at most a few addresses each, since it started.
    const elapsed = performance.now() - t0
    const dials = DEFAULT_ANNOUNCED_DIAL_BURST + Math.ceil(elapsed / DEFAULT_ANNOUNCED_DIAL_INTERVAL)
    const bound = 2 * dials * DEFAULT_ANNOUNCED_ADDRS_PER_PEER
    console.log(`${counter.connections} connections to the storm's addresses in ${Math.round(elapsed)} ms`)
    expect(counter.connections).toBeLessThanOrEqual(bound)
    // Most of the storm was refused, and counted.
    expect(a.status().rejections['gossip:announce-limit']).toBeGreaterThan(0)
  })
})
