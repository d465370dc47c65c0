/**
 * Sync between releases: a peer still answers `/sharedmem/sync/1.0.0`, the protocol
 * before flow control, and then streams every frame without waiting for
 * acknowledgements an older peer would never send.
 */
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeSyncMessage, encodeDigest, encodeDone, encodeRequest } from '../../src/codec/sync.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import { BUCKETS, Digest } from '../../src/store/digest.js'
import { SYNC_PROTOCOL_1_0 } from '../../src/sync/index.js'
import { hostileNode } from '../fixtures/hostile.js'
import { limits } from '../fixtures/limits.js'
import { startPeer, stopAll } from '../fixtures/peers.js'

const nodes: SharedMemNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await stopAll()
})

describe('sync protocol 1.0', () => {
  it('a peer serves a round to a peer of an earlier release, without acknowledgements', async () => {
    // 10 entries a frame: 60 frames, far more than the window a 1.1 sender waits on.
    const peer = await startPeer({ maxBatchEntries: 10 })
    for (let i = 0; i < 600; i++) await peer.save({ collection: 'c', key: `k${i}`, variable: i })
    const old = await hostileNode()
    nodes.push(old)
    const stream = await old.dialProtocol(multiaddr(peer.addresses[0]), SYNC_PROTOCOL_1_0)
    expect(stream.protocol).toBe(SYNC_PROTOCOL_1_0)

    // A 1.0 peer holding nothing: it asks for every bucket and has nothing to send, so it
    // can write its whole side at once.
    const request = [
      encodeDigest('default', 0, new Digest().groups()),
      encodeRequest(new Uint8Array(BUCKETS).fill(1)),
      encodeDone()
    ]
    const sent = pipe(request, (source) => lp.encode(source), stream.sink)
    const frames = lp.decode(stream.source)[Symbol.asyncIterator]()
    const read = async () => {
      const frame = await frames.next()
      if (frame.done === true) throw new Error('the stream ended before SYNC_DONE')
      return decodeSyncMessage(frame.value.subarray(), limits)
    }
    expect((await read()).type).toBe('leaves')

    let entries = 0
    let updates = 0
    for (let msg = await read(); msg.type !== 'done'; msg = await read()) {
      expect(msg.type).toBe('frame')
      if (msg.type === 'frame') entries += msg.batch.length
      updates++
    }
    expect(entries).toBe(600)
    expect(updates).toBe(60)
    await sent
    await stream.close()
  })
})
