/**
 * Sync between releases: a peer still answers `/sharedmem/sync/1.0.0`, the protocol
 * before flow control, and then streams every frame without waiting for
 * acknowledgements an older peer would never send.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { decodeSyncMessage } from '../../src/codec/sync.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import { SYNC_PROTOCOL_1_0 } from '../../src/sync/index.js'
import { emptyPeerRound } from '../fixtures/empty-round.js'
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
    // A 1.0 peer holding nothing: it asks for every bucket and has nothing to send.
    let entries = 0
    const frames = await emptyPeerRound(old, peer.addresses[0], SYNC_PROTOCOL_1_0)
    for (const frame of frames) {
      const msg = decodeSyncMessage(frame, limits)
      expect(msg.type).toBe('frame')
      if (msg.type === 'frame') entries += msg.batch.length
    }
    expect(entries).toBe(600)
    expect(frames).toHaveLength(60)
  })
})
