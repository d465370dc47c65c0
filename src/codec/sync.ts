/**
 * Messages of the sync protocol (docs/protocol.md). Entries themselves travel
 * as ordinary UPDATES messages; the rest are digests, a request and an end mark.
 */
import { decodeError } from '../errors.js'
import { BUCKETS, GROUPS, LEAVES_PER_GROUP } from '../store/digest.js'
import { isCount, isNodeId, MessageType, packr, unpackSafely, WIRE_VERSION } from './base.js'
import { type DecodeLimits, type EntryFrame, readEntryFrame, unsupportedUpdates } from './updates.js'

export type SyncMessage =
  | { type: 'digest'; swarm: string; row: MemberRow; groups: Uint32Array }
  | { type: 'leaves'; row: MemberRow; groups: number[]; leaves: Uint32Array }
  | { type: 'request'; mask: Uint8Array }
  | { type: 'done' }
  | { type: 'ack'; frames: number }
  | EntryFrame

/**
 * What a peer knows of the swarm's members (src/sync/membership.ts): pairs of a member's peer id
 * and the time (ms since the epoch) as of which this peer holds everything that member held. The
 * sender comes first, with the time it sent the row.
 */
export type MemberRow = Array<[member: string, seen: number]>

/** Members one row may list: far more than a swarm has; bounds what a frame can make a peer store. */
export const MAX_ROW_MEMBERS = 4096

const GROUP_BYTES = GROUPS * 8
const LEAF_GROUP_BYTES = LEAVES_PER_GROUP * 8

/** Hash words as little-endian bytes, the same on every platform. */
function wordsToBytes(words: Uint32Array): Uint8Array {
  const bytes = new Uint8Array(words.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i], true)
  return bytes
}

function bytesToWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.byteLength / 4)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true)
  return words
}

export function encodeDigest(swarm: string, row: MemberRow, groups: Uint32Array): Uint8Array {
  return packr.pack([MessageType.SYNC_DIGEST, WIRE_VERSION, swarm, row, wordsToBytes(groups)])
}

export function encodeLeaves(row: MemberRow, groups: number[], leaves: Uint32Array): Uint8Array {
  return packr.pack([MessageType.SYNC_LEAVES, WIRE_VERSION, row, groups, wordsToBytes(leaves)])
}

/** A member row as received: pairs of a peer id and a count, the first one (the sender) required. */
function readRow(row: unknown): MemberRow {
  if (!Array.isArray(row) || row.length === 0 || row.length > MAX_ROW_MEMBERS) throw decodeError('malformed member row')
  for (const pair of row) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isNodeId(pair[0]) || !isCount(pair[1])) {
      throw decodeError('malformed member row')
    }
  }
  return row as MemberRow
}

/** `mask` has one byte per bucket (non-zero = wanted); it travels as a bitmap. */
export function encodeRequest(mask: Uint8Array): Uint8Array {
  const bits = new Uint8Array(BUCKETS / 8)
  for (let b = 0; b < BUCKETS; b++) if (mask[b] !== 0) bits[b >> 3] |= 1 << (b & 7)
  return packr.pack([MessageType.SYNC_REQUEST, WIRE_VERSION, bits])
}

export function encodeDone(): Uint8Array {
  return packr.pack([MessageType.SYNC_DONE, WIRE_VERSION])
}

/** Acknowledges `frames` UPDATES frames merged: the sender's credit (flow control). */
export function encodeAck(frames: number): Uint8Array {
  return packr.pack([MessageType.SYNC_ACK, WIRE_VERSION, frames])
}

/** A DEFLATED frame's content: the compressed bytes of a frame of `length` bytes. */
export interface Deflated {
  length: number
  compressed: Uint8Array
}

/** Wraps an UPDATES frame of `length` bytes compressed with raw DEFLATE. */
export function encodeDeflated({ length, compressed }: Deflated): Uint8Array {
  return packr.pack([MessageType.SYNC_DEFLATED, WIRE_VERSION, length, compressed])
}

/**
 * The content of a DEFLATED frame, or undefined for a frame of any other type (told by
 * its first bytes, without decoding it). Throws `ERR_DECODE` for a malformed one.
 */
export function deflatedPayload(bytes: Uint8Array): Deflated | undefined {
  if (bytes.byteLength < 3 || bytes[0] !== 0x94 || bytes[1] !== MessageType.SYNC_DEFLATED) return undefined
  const [, version, length, compressed] = unpackSafely(bytes) as unknown[]
  if (version !== WIRE_VERSION || !isCount(length) || length === 0 || !(compressed instanceof Uint8Array)) {
    throw decodeError('malformed compressed frame')
  }
  return { length, compressed }
}

/** Decodes one frame of a sync stream; throws `ERR_DECODE` for anything malformed or out of place. */
export function decodeSyncMessage(bytes: Uint8Array, limits: DecodeLimits): SyncMessage {
  if (bytes.byteLength > limits.maxMessageBytes) throw decodeError('sync frame exceeds the message size limit')
  // Entries of the current layout stay columns over the frame: a replica merges them without an object each.
  const frame = readEntryFrame(bytes, limits)
  if (frame !== undefined) return frame
  const msg = unpackSafely(bytes)
  if (!Array.isArray(msg) || msg.length < 2) throw decodeError('sync frame is not an array with a type and version')
  const [type, version] = msg
  // UPDATES frames have their own layout version: readEntryFrame took those of the one there is.
  if (type === MessageType.UPDATES) throw unsupportedUpdates(version)
  if (version !== WIRE_VERSION) throw decodeError(`unsupported wire version ${String(version)}`)
  switch (type) {
    case MessageType.SYNC_DIGEST: {
      const [, , swarm, row, groups] = msg
      if (msg.length !== 5 || typeof swarm !== 'string' || swarm.length > 256) {
        throw decodeError('malformed sync digest')
      }
      if (!(groups instanceof Uint8Array) || groups.byteLength !== GROUP_BYTES) throw decodeError('bad group hashes')
      return { type: 'digest', swarm, row: readRow(row), groups: bytesToWords(groups) }
    }
    case MessageType.SYNC_LEAVES: {
      const [, , row, groups, leaves] = msg
      if (msg.length !== 5 || !Array.isArray(groups) || groups.length > GROUPS) {
        throw decodeError('malformed sync leaves')
      }
      if (!groups.every((g) => isCount(g) && g < GROUPS) || new Set(groups).size !== groups.length) {
        throw decodeError('bad group numbers')
      }
      if (!(leaves instanceof Uint8Array) || leaves.byteLength !== groups.length * LEAF_GROUP_BYTES) {
        throw decodeError('bad leaf hashes')
      }
      return { type: 'leaves', row: readRow(row), groups, leaves: bytesToWords(leaves) }
    }
    case MessageType.SYNC_REQUEST: {
      const [, , bits] = msg
      if (msg.length !== 3 || !(bits instanceof Uint8Array) || bits.byteLength !== BUCKETS / 8) {
        throw decodeError('malformed sync request')
      }
      const mask = new Uint8Array(BUCKETS)
      for (let b = 0; b < BUCKETS; b++) mask[b] = (bits[b >> 3] >> (b & 7)) & 1
      return { type: 'request', mask }
    }
    case MessageType.SYNC_DONE:
      if (msg.length !== 2) throw decodeError('malformed sync end')
      return { type: 'done' }
    case MessageType.SYNC_ACK: {
      const [, , frames] = msg
      if (msg.length !== 3 || !isCount(frames) || frames === 0) throw decodeError('malformed sync acknowledgement')
      return { type: 'ack', frames }
    }
    default:
      throw decodeError(`unexpected message type ${String(type)} on a sync stream`)
  }
}
