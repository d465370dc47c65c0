/**
 * Compression of sync frames (protocol 1.2): an UPDATES frame goes as raw DEFLATE
 * (level 1, zlib's fastest) when that makes it clearly smaller, as Redis compresses
 * the strings of the snapshot a new replica loads. Both ends run zlib on libuv's
 * thread pool, beside the merge. The sender stops trying for the rest of a round
 * whose frames do not compress; a receiver inflates under the message size limit,
 * so a small frame cannot expand into a large allocation.
 */
import { promisify } from 'node:util'
import { deflateRaw, inflateRaw } from 'node:zlib'
import { encodeDeflated } from '../codec/sync.js'
import { decodeError } from '../errors.js'

const deflate = promisify(deflateRaw)
const inflate = promisify(inflateRaw)

/** Frames smaller than this go as they are: too little to gain. */
export const MIN_COMPRESSED_FRAME = 8 * 1024
/** A frame is sent compressed only when that takes at most this share of its bytes. */
const MAX_RATIO = 0.75
/** Frames tried before a round whose frames do not compress stops trying. */
const PROBE_FRAMES = 4

/**
 * zlib's output buffer: every one filled is a round trip to the thread pool (its
 * default of 16 KiB made inflating a 256 KiB frame take 17).
 */
const DEFLATE_CHUNK = 64 * 1024
const INFLATE_CHUNK = 512 * 1024

/** One sending side's compression of one round: adaptive, so incompressible data costs no CPU. */
export class FrameCompressor {
  private raw = 0
  private packed = 0
  private tried = 0
  private off = false

  /** The frame to send for `frame`: a DEFLATED frame, or `frame` itself. */
  async compress(frame: Uint8Array): Promise<Uint8Array> {
    if (this.off || frame.byteLength < MIN_COMPRESSED_FRAME) return frame
    const packed = await deflate(frame, { level: 1, chunkSize: DEFLATE_CHUNK })
    this.raw += frame.byteLength
    this.packed += packed.byteLength
    if (++this.tried >= PROBE_FRAMES && this.packed > this.raw * MAX_RATIO) this.off = true
    return packed.byteLength <= frame.byteLength * MAX_RATIO ? encodeDeflated(packed) : frame
  }
}

/** The frame a DEFLATED frame's payload holds, at most `maxBytes` long (else `ERR_DECODE`). */
export async function inflateFrame(compressed: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  try {
    return await inflate(compressed, { maxOutputLength: maxBytes, chunkSize: INFLATE_CHUNK })
  } catch (err) {
    throw decodeError(`compressed frame does not inflate within ${maxBytes} bytes`, err)
  }
}
