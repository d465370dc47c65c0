/**
 * Compression of sync frames: an UPDATES frame (or a LEAVES frame) goes as raw DEFLATE
 * (level 1, zlib's fastest) when that makes it clearly smaller, as Redis compresses
 * the strings of the snapshot a new replica loads. Both ends run zlib on libuv's
 * thread pool, beside the merge. The sender stops trying for the rest of a round
 * whose frames do not compress; a receiver inflates under the message size limit,
 * so a small frame cannot expand into a large allocation.
 */
import { promisify } from 'node:util'
import { deflateRaw, inflateRaw } from 'node:zlib'
import { type Deflated, encodeDeflated } from '../codec/sync.js'
import { decodeError } from '../errors.js'

const deflate = promisify(deflateRaw)
const inflate = promisify(inflateRaw)

/** Frames smaller than this go as they are: too little to gain. */
export const MIN_COMPRESSED_FRAME = 8 * 1024
/** A frame is sent compressed only when that takes at most this share of its bytes. */
const MAX_RATIO = 0.75
/**
 * Frames, and bytes, tried before a round whose frames do not compress stops trying: bytes too,
 * since a whole replica's first frames are small (store/scan.ts), and a first collection of
 * random values would otherwise turn compression off for every collection after it.
 */
const PROBE_FRAMES = 4
const PROBE_BYTES = 2 * 1024 * 1024

/**
 * zlib's output buffer when deflating: every one filled is a round trip to the thread pool
 * (its default of 16 KiB made inflating a 256 KiB frame take 17; a frame is inflated into
 * one buffer of its announced length).
 */
const DEFLATE_CHUNK = 64 * 1024

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
    if (++this.tried >= PROBE_FRAMES && this.raw >= PROBE_BYTES && this.packed > this.raw * MAX_RATIO) this.off = true
    return packed.byteLength <= frame.byteLength * MAX_RATIO
      ? encodeDeflated({ length: frame.byteLength, compressed: packed })
      : frame
  }
}

/**
 * The frame a DEFLATED frame holds: `ERR_DECODE` unless it inflates to exactly the length it
 * announces, and that is at most `maxBytes`.
 */
export async function inflateFrame({ length, compressed }: Deflated, maxBytes: number): Promise<Uint8Array> {
  if (length > maxBytes) throw decodeError(`compressed frame of ${length} bytes exceeds the limit of ${maxBytes}`)
  let frame: Uint8Array
  try {
    // One output buffer a byte longer than the frame (zlib's smallest is 64 bytes): one exactly as
    // long would be full at the end, and Node's zlib then allocates another of that size and
    // calls zlib once more (a round trip to the thread pool) to find that nothing is left.
    frame = await inflate(compressed, { maxOutputLength: length, chunkSize: Math.max(64, length + 1) })
  } catch (err) {
    throw decodeError(`compressed frame does not inflate to the ${length} bytes it announces`, err)
  }
  if (frame.byteLength !== length) {
    throw decodeError(`compressed frame inflates to ${frame.byteLength} bytes, not the ${length} it announces`)
  }
  return frame
}
