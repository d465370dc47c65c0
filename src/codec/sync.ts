/**
 * Messages of the sync protocol (docs/protocol.md). Entries themselves travel
 * as ordinary UPDATES messages; the rest are digests, a request and an end mark.
 */
import { decodeError } from '../errors.js'
import { BUCKETS, GROUPS, LEAVES_PER_GROUP } from '../store/digest.js'
import type { Reader } from '../value/reader.js'
import type { Writer } from '../value/writer.js'
import { checkEnd, guard, isCount, isNodeId, MessageType, readEnvelope, startMessage, WIRE_VERSION } from './base.js'
import { type DecodeLimits, type EntryFrame, readEntryFrame, unsupportedUpdates } from './updates.js'

export type SyncMessage =
  | { type: 'digest'; swarm: string; row: MemberRow; groups: Uint32Array }
  | { type: 'leaves'; row: MemberRow; groups: number[]; leaves: Uint32Array }
  | { type: 'request'; mask: Uint8Array }
  | { type: 'done' }
  | { type: 'stale' }
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

/** Bytes a member row takes at most: a header and, per member, a pair, a peer id and a time. */
const rowSize = (row: MemberRow) => 5 + row.length * 80

export function encodeDigest(swarm: string, row: MemberRow, groups: Uint32Array): Uint8Array {
  const w = startMessage(MessageType.SYNC_DIGEST, 5, 32 + swarm.length * 3 + rowSize(row) + groups.byteLength)
  w.str(swarm)
  writeRow(w, row)
  w.bin(wordsToBytes(groups))
  return w.finish()
}

export function encodeLeaves(row: MemberRow, groups: number[], leaves: Uint32Array): Uint8Array {
  const w = startMessage(MessageType.SYNC_LEAVES, 5, 32 + rowSize(row) + groups.length * 9 + leaves.byteLength)
  writeRow(w, row)
  w.arrayHeader(groups.length)
  for (const g of groups) w.number(g)
  w.bin(wordsToBytes(leaves))
  return w.finish()
}

function writeRow(w: Writer, row: MemberRow): void {
  w.arrayHeader(row.length)
  for (const [member, seen] of row) {
    w.arrayHeader(2)
    w.str(member)
    w.number(seen)
  }
}

/** A member row as received: pairs of a peer id and a count, the first one (the sender) required. */
function readRow(r: Reader): MemberRow {
  // The count is checked before anything is read or kept for it.
  const count = r.array()
  if (count === 0 || count > MAX_ROW_MEMBERS) throw decodeError('malformed member row')
  const row: MemberRow = []
  for (let i = 0; i < count; i++) {
    if (r.array() !== 2) throw decodeError('malformed member row')
    const member = r.str()
    const seen = r.count()
    if (!isNodeId(member) || !isCount(seen)) throw decodeError('malformed member row')
    row.push([member, seen])
  }
  return row
}

/** `mask` has one byte per bucket (non-zero = wanted); it travels as a bitmap. */
export function encodeRequest(mask: Uint8Array): Uint8Array {
  const bits = new Uint8Array(BUCKETS / 8)
  for (let b = 0; b < BUCKETS; b++) if (mask[b] !== 0) bits[b >> 3] |= 1 << (b & 7)
  const w = startMessage(MessageType.SYNC_REQUEST, 3, 16 + bits.byteLength)
  w.bin(bits)
  return w.finish()
}

export function encodeDone(): Uint8Array {
  return startMessage(MessageType.SYNC_DONE, 2).finish()
}

/** The responder's answer to a DIGEST as old as its wait for its catch-up turn: the initiator sends a fresh one. */
export function encodeStale(): Uint8Array {
  return startMessage(MessageType.SYNC_STALE, 2).finish()
}

/** Acknowledges `frames` UPDATES frames merged: the sender's credit (flow control). */
export function encodeAck(frames: number): Uint8Array {
  const w = startMessage(MessageType.SYNC_ACK, 3)
  w.number(frames)
  return w.finish()
}

/** A DEFLATED frame's content: the compressed bytes of a frame of `length` bytes. */
export interface Deflated {
  length: number
  compressed: Uint8Array
}

/** Wraps an UPDATES frame of `length` bytes compressed with raw DEFLATE. */
export function encodeDeflated({ length, compressed }: Deflated): Uint8Array {
  const w = startMessage(MessageType.SYNC_DEFLATED, 4, 24 + compressed.byteLength)
  w.number(length)
  w.bin(compressed)
  return w.finish()
}

/**
 * The content of a DEFLATED frame, or undefined for a frame of any other type (told by
 * its first bytes, without decoding it). Throws `ERR_DECODE` for a malformed one.
 */
export function deflatedPayload(bytes: Uint8Array): Deflated | undefined {
  if (bytes.byteLength < 3 || bytes[0] !== 0x94 || bytes[1] !== MessageType.SYNC_DEFLATED) return undefined
  const { r, version } = readEnvelope(bytes)
  return guard(() => {
    const length = r.count()
    const compressed = r.bin()
    if (version !== WIRE_VERSION || !isCount(length) || length === 0 || compressed === undefined) {
      throw decodeError('malformed compressed frame')
    }
    checkEnd(r)
    return { length, compressed }
  })
}

/** Decodes one frame of a sync stream; throws `ERR_DECODE` for anything malformed or out of place. */
export function decodeSyncMessage(bytes: Uint8Array, limits: DecodeLimits): SyncMessage {
  if (bytes.byteLength > limits.maxMessageBytes) throw decodeError('sync frame exceeds the message size limit')
  // Entries of the current layout stay columns over the frame: a replica merges them without an object each.
  const frame = readEntryFrame(bytes, limits)
  if (frame !== undefined) return frame
  const { r, fields, type, version } = readEnvelope(bytes)
  // UPDATES frames have their own layout version: readEntryFrame took those of the one there is.
  if (type === MessageType.UPDATES) throw unsupportedUpdates(version)
  if (version !== WIRE_VERSION) throw decodeError(`unsupported wire version ${String(version)}`)
  return guard(() => {
    const msg = readSyncFields(r, fields, type)
    checkEnd(r)
    return msg
  })
}

/** The fields of a sync message of `type` after its type and version, each checked as it is read. */
function readSyncFields(r: Reader, fields: number, type: number | undefined): SyncMessage {
  switch (type) {
    case MessageType.SYNC_DIGEST: {
      if (fields !== 5) throw decodeError('malformed sync digest')
      const swarm = r.str()
      if (swarm === undefined || swarm.length > 256) throw decodeError('malformed sync digest')
      const row = readRow(r)
      const groups = r.bin()
      if (groups === undefined || groups.byteLength !== GROUP_BYTES) throw decodeError('bad group hashes')
      return { type: 'digest', swarm, row, groups: bytesToWords(groups) }
    }
    case MessageType.SYNC_LEAVES: {
      if (fields !== 5) throw decodeError('malformed sync leaves')
      const row = readRow(r)
      const count = r.array()
      if (count > GROUPS) throw decodeError('malformed sync leaves')
      const groups: number[] = []
      for (let i = 0; i < count; i++) {
        const g = r.count()
        if (g === undefined || g >= GROUPS || groups.includes(g)) throw decodeError('bad group numbers')
        groups.push(g)
      }
      const leaves = r.bin()
      if (leaves === undefined || leaves.byteLength !== groups.length * LEAF_GROUP_BYTES) {
        throw decodeError('bad leaf hashes')
      }
      return { type: 'leaves', row, groups, leaves: bytesToWords(leaves) }
    }
    case MessageType.SYNC_REQUEST: {
      const bits = fields === 3 ? r.bin() : undefined
      if (bits === undefined || bits.byteLength !== BUCKETS / 8) throw decodeError('malformed sync request')
      const mask = new Uint8Array(BUCKETS)
      for (let b = 0; b < BUCKETS; b++) mask[b] = (bits[b >> 3] >> (b & 7)) & 1
      return { type: 'request', mask }
    }
    case MessageType.SYNC_DONE:
      if (fields !== 2) throw decodeError('malformed sync end')
      return { type: 'done' }
    case MessageType.SYNC_STALE:
      if (fields !== 2) throw decodeError('malformed sync stale mark')
      return { type: 'stale' }
    case MessageType.SYNC_ACK: {
      const frames = fields === 3 ? r.count() : undefined
      if (!isCount(frames) || frames === 0) throw decodeError('malformed sync acknowledgement')
      return { type: 'ack', frames }
    }
    default:
      throw decodeError(`unexpected message type ${String(type)} on a sync stream`)
  }
}
