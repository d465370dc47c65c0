/**
 * A hostile peer on the gossip topic and on sync streams: malformed bytes,
 * wrong shapes, oversize messages, deep values, far-future timestamps and
 * forged origins. The other peers stay up, store none of it, count each
 * refusal, and keep serving reads and writes.
 */
import { deflateRawSync } from 'node:zlib'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeUpdates } from '../../src/codec/index.js'
import { encodeDeflated } from '../../src/codec/sync.js'
import type { SharedMemPeer } from '../../src/index.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { SYNC_PROTOCOL } from '../../src/sync/index.js'
import { hostileNode, TOPIC } from '../fixtures/hostile.js'
import { pack } from '../fixtures/msgpack.js'
import { startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const nodes: SharedMemNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await stopAll()
})

/** Starts a hostile node subscribed to the topic and connected to `victim`, seen by it as a swarm peer. */
async function joinHostile(victim: SharedMemPeer, signMessages = false): Promise<SharedMemNode> {
  const node = await hostileNode({ signMessages })
  nodes.push(node)
  node.services.pubsub.subscribe(TOPIC)
  await node.dial(multiaddr(victim.addresses[0]))
  await waitFor(() => victim.status().peers.includes(node.peerId.toString()), 'the hostile peer to subscribe')
  await waitFor(() => node.services.pubsub.getSubscribers(TOPIC).length > 0, 'the hostile peer to see the victim')
  return node
}

function entry(node: string, overrides: Partial<EntryUpdate> = {}): EntryUpdate {
  return {
    collection: 'evil',
    key: 'k',
    wall: Date.now(),
    logical: 0,
    node,
    expiresAt: 0,
    deleted: false,
    value: 'x',
    ...overrides
  }
}

const publish = (node: SharedMemNode, data: Uint8Array) => node.services.pubsub.publish(TOPIC, data)

describe('hostile gossip', () => {
  it('refuses malformed, oversize, deep and far-future updates; stores nothing; keeps serving', async () => {
    const [a, b] = await startPeers(2, { maxMessageBytes: 64 * 1024 })
    const before = a.status().digest
    const evil = await joinHostile(a)
    const me = evil.peerId.toString()

    await publish(evil, new Uint8Array([0xc1, 0xff, 0x00, 0x13])) // not MessagePack
    await publish(evil, pack({ not: 'an array' }))
    await publish(evil, pack([1, 99, [], [], []])) // unknown version
    await publish(evil, pack([42, 1])) // unknown type
    await publish(evil, pack([1, 1, [me], [['evil', 'k', -1, 0, 0, 0, false, null]], []])) // bad stamp
    await publish(evil, encodeUpdates([{ update: entry(me, { value: 'x'.repeat(70 * 1024) }) }], [])) // over 64 KiB
    let deep: unknown = 1
    for (let i = 0; i < 200; i++) deep = [deep]
    await publish(evil, encodeUpdates([{ update: entry(me, { key: 'deep', value: deep as never }) }], []))
    await publish(evil, encodeUpdates([{ update: entry(me, { key: 'future', wall: Date.now() + 24 * 3600_000 }) }], []))
    await publish(evil, encodeUpdates([{ update: entry(me, { collection: '' }) }], []))
    // A well-formed write last: once it has arrived, every message before it has been handled.
    await publish(evil, encodeUpdates([{ update: entry(me, { collection: 'probe' }) }], []))
    await waitFor(() => a.getSync({ collection: 'probe', key: 'k' }) === 'x', 'the probe write')

    expect(a.getArraySync({ collection: 'evil' })).toEqual({})
    const { rejections } = a.status()
    expect(rejections['gossip:decode']).toBeGreaterThanOrEqual(8)
    expect(rejections['gossip:clock-skew']).toBe(1)
    // The probe is the only change, and the peers still replicate with each other.
    await a.remove({ collection: 'probe', key: 'k' })
    await b.save({ collection: 'after', key: 'k', variable: 'still working' })
    await waitFor(
      () => a.getSync({ collection: 'after', key: 'k' }) === 'still working',
      'replication after the attack'
    )
    await waitFor(() => a.status().digest === b.status().digest, 'identical replicas')
    expect(before).not.toBe(a.status().digest)
  })

  it('with signed messages, refuses writes whose claimed writer is not the signer', async () => {
    const [a, b] = await startPeers(2, { signMessages: true })
    const evil = await joinHostile(a, true)
    const me = evil.peerId.toString()
    await publish(evil, encodeUpdates([{ update: entry(b.peerId, { key: 'forged' }) }], []))
    await publish(evil, encodeUpdates([], [{ counter: 'n', slot: `${b.peerId}/x`, inc: 1_000_000, dec: 0 }]))
    await publish(evil, encodeUpdates([{ update: entry(me, { key: 'own' }) }], []))
    await waitFor(() => a.getSync({ collection: 'evil', key: 'own' }) === 'x', 'the signer’s own write')
    expect(a.getSync({ collection: 'evil', key: 'forged' })).toBeNull()
    expect(a.getCounterSync({ counter: 'n' })).toBe(0)
    expect(a.status().rejections['gossip:forged-origin']).toBe(2)
    await b.save({ collection: 'c', key: 'k', variable: 'signed and fine' })
    await waitFor(() => a.getSync({ collection: 'c', key: 'k' }) === 'signed and fine', 'a signed write between peers')
  })
})

describe('hostile sync streams', () => {
  it('close the stream, not the peer', async () => {
    const [a, b] = await startPeers(2)
    const evil = await joinHostile(a)
    for (const garbage of [
      new Uint8Array([1, 2, 3]),
      pack([3, 1, 'default', 0, new Uint8Array(7)]),
      pack([5, 1]),
      // A compressed frame announcing 1 KB that would inflate to 8 MiB (of zeros, in 8 KiB).
      encodeDeflated({ length: 1000, compressed: deflateRawSync(new Uint8Array(8 << 20)) })
    ]) {
      const stream = await evil.dialProtocol(multiaddr(a.addresses[0]), SYNC_PROTOCOL)
      await pipe([garbage], (source) => lp.encode(source), stream.sink).catch(() => {})
      await stream.close().catch(() => {})
    }
    await waitFor(() => (a.status().rejections['sync:decode'] ?? 0) >= 4, 'four refused sync streams')
    await b.save({ collection: 'c', key: 'k', variable: 1 })
    await waitFor(() => a.getSync({ collection: 'c', key: 'k' }) === 1, 'replication after the attack')
  })
})
