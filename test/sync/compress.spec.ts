/**
 * Compressed sync frames: a sender compresses what compresses and stops trying on
 * what does not; a receiver inflates within the message limit; and a real late join
 * moves fewer bytes.
 */
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { type Deflated, decodeSyncMessage, deflatedPayload, encodeDeflated } from '../../src/codec/sync.js'
import { ErrorCode } from '../../src/errors.js'
import type { PeerOptions } from '../../src/index.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import { FrameCompressor, inflateFrame, MIN_COMPRESSED_FRAME } from '../../src/sync/compress.js'
import { emptyPeerRound } from '../fixtures/empty-round.js'
import { hostileNode } from '../fixtures/hostile.js'
import { limits } from '../fixtures/limits.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const nodes: SharedMemNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await stopAll()
})

const decodeCode = expect.objectContaining({ code: ErrorCode.DECODE })

describe('frame compression', () => {
  it('sends a compressible frame deflated, and it inflates to the same bytes', async () => {
    const frame = new Uint8Array(64 * 1024).fill(7)
    const sent = await new FrameCompressor().compress(frame)
    expect(sent.byteLength).toBeLessThan(frame.byteLength / 10)
    const payload = deflatedPayload(sent)
    expect(payload).toBeDefined()
    expect(await inflateFrame(payload as Deflated, limits.maxMessageBytes)).toEqual(Buffer.from(frame))
  })

  it('sends small and incompressible frames as they are, and stops trying on a round that does not compress', async () => {
    const compressor = new FrameCompressor()
    const small = new Uint8Array(MIN_COMPRESSED_FRAME - 1).fill(7)
    expect(await compressor.compress(small)).toBe(small)
    for (let i = 0; i < 4; i++) {
      const noise = randomBytes(512 * 1024)
      expect(await compressor.compress(noise)).toBe(noise)
    }
    // Tried four frames and 2 MiB, and gained nothing: even a compressible frame now goes as it is.
    const compressible = new Uint8Array(64 * 1024).fill(7)
    expect(await compressor.compress(compressible)).toBe(compressible)
  })

  it('keeps compressing after a few small frames that do not compress (a replica whose first collection is random)', async () => {
    const compressor = new FrameCompressor()
    for (let i = 0; i < 8; i++) {
      const noise = randomBytes(32 * 1024)
      expect(await compressor.compress(noise)).toBe(noise)
    }
    const compressible = new Uint8Array(2 * 1024 * 1024).fill(7)
    expect((await compressor.compress(compressible)).byteLength).toBeLessThan(compressible.byteLength / 10)
    // 2 MiB and more tried, of which most compressed: it goes on.
    expect((await compressor.compress(randomBytes(64 * 1024))).byteLength).toBe(64 * 1024)
    expect((await compressor.compress(compressible)).byteLength).toBeLessThan(compressible.byteLength / 10)
  })

  it('refuses a frame announced past the message limit, one that does not inflate to its length, and malformed ones', async () => {
    const max = limits.maxMessageBytes
    const bomb = deflateRawSync(new Uint8Array(max + 1))
    await expect(inflateFrame({ length: max + 1, compressed: bomb }, max)).rejects.toEqual(decodeCode)
    // Lying about the length: zlib stops at the announced length, so a bomb costs no more than it says.
    await expect(inflateFrame({ length: 1000, compressed: bomb }, max)).rejects.toEqual(decodeCode)
    const short = deflateRawSync(new Uint8Array(1000))
    await expect(inflateFrame({ length: 2000, compressed: short }, max)).rejects.toEqual(decodeCode)
    await expect(inflateFrame({ length: 10, compressed: Uint8Array.of(1, 2, 3, 4) }, max)).rejects.toEqual(decodeCode)
    expect(await inflateFrame({ length: 1000, compressed: short }, max)).toHaveLength(1000)
    expect(() => deflatedPayload(Uint8Array.of(0x94, 8, 2, 0, 0xc0))).toThrowError(decodeCode)
    expect(() => deflatedPayload(encodeDeflated({ length: 0, compressed: short }))).toThrowError(decodeCode)
    // A compressed frame is inflated before decoding: one that reaches the decoder (nested in another) is refused.
    expect(() => decodeSyncMessage(encodeDeflated({ length: 1000, compressed: short }), limits)).toThrowError(
      decodeCode
    )
  })
})

describe('compressed sync rounds', () => {
  /** A peer holding 200 values of `size` bytes that compress well: frames far above the compression threshold. */
  async function filledPeer(size = 1000, options: PeerOptions = {}) {
    const peer = await startPeer(options)
    for (let i = 0; i < 200; i++) await peer.save({ collection: 'c', key: `k${i}`, variable: 'x'.repeat(size) + i })
    return peer
  }

  /** The frames a peer sends an empty peer (200 entries: within the window, which it never acknowledges). */
  async function serve(options: PeerOptions = {}) {
    const peer = await filledPeer(1000, options)
    const client = await hostileNode()
    nodes.push(client)
    return emptyPeerRound(client, peer.addresses[0])
  }

  it('a peer sends compressible entries deflated', async () => {
    const frames = await serve()
    let entries = 0
    for (const frame of frames) {
      const payload = deflatedPayload(frame)
      expect(payload).toBeDefined()
      const msg = decodeSyncMessage(await inflateFrame(payload as Deflated, limits.maxMessageBytes), limits)
      if (msg.type === 'frame') entries += msg.batch.length
    }
    expect(entries).toBe(200)
  })

  it('cuts frames at 4 times the batch limits', async () => {
    // 200 entries in frames of 80: the empty peer acknowledges nothing, and 3 fit in the window.
    expect(await serve({ maxBatchEntries: 20 })).toHaveLength(3)
  })

  it('a late joiner catches up through compressed frames, receiving far fewer bytes than the values', async () => {
    const full = await filledPeer(5000)
    const joiner = await startPeer({ bootstrap: [full.addresses[0]] })
    await waitFor(() => joiner.status().digest === full.status().digest, 'the joiner to catch up')
    expect(joiner.status().entries).toBe(200)
    // 1 MB of values; the round's digests take up to 33 KB of it.
    expect(joiner.status().sync.bytesReceived + full.status().sync.bytesReceived).toBeLessThan(100_000)
  })
})
