/**
 * What every message shares: the type and version numbers, the envelope every
 * message but UPDATES is written and read in, and the checks used while decoding
 * untrusted fields. Every message is MessagePack written by src/value/writer.ts
 * and read by src/value/reader.ts, field by field: no generic decoder builds an
 * object tree of untrusted bytes.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import { Reader } from '../value/reader.js'
import { Writer } from '../value/writer.js'

/** Message types: the first field of every message. */
export const MessageType = {
  /** A batch of entry and counter updates (gossip, and entries streamed by sync). */
  UPDATES: 1,
  /** A peer's addresses, so that peers who share a bootstrap also connect directly. */
  ANNOUNCE: 2,
  /** Sync: the initiator's group hashes. */
  SYNC_DIGEST: 3,
  /** Sync: the responder's leaf hashes of the groups that differ. */
  SYNC_LEAVES: 4,
  /** Sync: the buckets whose entries the initiator will send and wants back. */
  SYNC_REQUEST: 5,
  /** Sync: the end of one side's entries. */
  SYNC_DONE: 6,
  /** Sync (protocol 1.1): UPDATES frames received and merged, so the sender may send more. */
  SYNC_ACK: 7,
  /** Sync (protocol 1.2; LEAVES too since 1.3): one UPDATES or LEAVES frame compressed with raw DEFLATE. */
  SYNC_DEFLATED: 8,
  /** A peer that holds nothing across a restart is leaving for good (gossip). */
  LEAVE: 9,
  /** Sync (protocol 1.3): the responder caught up while the DIGEST waited for its answer; send a fresh one. */
  SYNC_STALE: 10
} as const

/** The layout version of every message type but UPDATES; a message of another version is rejected. */
export const WIRE_VERSION = 1

/**
 * The layout version of UPDATES messages: values inline. The one layout read and
 * written (docs/protocol.md, "Compatibility"); a message of any other is refused.
 */
export const UPDATES_VERSION = 2

/** Longest peer id accepted (real ones are about 52 characters). */
const MAX_NODE_ID_LENGTH = 128

/**
 * A writer holding the start of a message of `type` (not UPDATES) with `fields` fields:
 * its array header, type and {@link WIRE_VERSION}. `size` is a guess of its length in bytes.
 */
export function startMessage(type: number, fields: number, size = 16): Writer {
  const w = new Writer(size)
  w.arrayHeader(fields)
  w.uint(type)
  w.uint(WIRE_VERSION)
  return w
}

/** The start of a received message: its field count, type and version, and a reader at its third field. */
export interface Envelope {
  r: Reader
  fields: number
  /** Undefined when the field is no non-negative integer. */
  type: number | undefined
  version: number | undefined
}

/** Reads the start of a message; throws `ERR_DECODE` unless it is an array with a type and version. */
export function readEnvelope(bytes: Uint8Array): Envelope {
  return guard(() => {
    const r = new Reader(bytes)
    const fields = r.array()
    if (fields < 2) throw decodeError('message is not an array with a type and version')
    return { r, fields, type: r.count(), version: r.count() }
  })
}

/** Throws `ERR_DECODE` when `r` has not read the whole message (the layout's fields are all there are). */
export function checkEnd(r: Reader): void {
  if (!r.done) throw decodeError('message has bytes after its end')
}

/** Rethrows any validation error as `ERR_DECODE`: from the network, every bad field is a decode failure. */
export function guard<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw guardError(err)
  }
}

/** `err` as the `ERR_DECODE` that {@link guard} throws. */
export function guardError(err: unknown): SharedMemError {
  if (err instanceof SharedMemError && err.code === ErrorCode.DECODE) return err
  return decodeError(err instanceof Error ? err.message : 'invalid field', err)
}

export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/**
 * Whether `v` is a peer id (the writer of an entry, the owner of a counter slot, an announced
 * peer): it must parse as one, so that no name that is no peer can win ties or own slots.
 */
export function isNodeId(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_NODE_ID_LENGTH) return false
  if (knownIds.has(v)) return true
  try {
    peerIdFromString(v)
  } catch {
    return false
  }
  // Parsing is costly next to a lookup, and every message names its writers again: remember the few there are.
  if (knownIds.size >= MAX_KNOWN_IDS) knownIds.clear()
  knownIds.add(v)
  return true
}

/** Peer ids already parsed (a memo of {@link isNodeId}), and how many it keeps before it starts over. */
const knownIds = new Set<string>()
const MAX_KNOWN_IDS = 4096
