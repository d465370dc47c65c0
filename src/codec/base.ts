/**
 * What every message shares: the MessagePack codec instances, the type and
 * version numbers, and the checks used while decoding untrusted fields.
 */
// The pure-JS entry points: the main one loads msgpackr's native string extractor where a
// prebuilt binary exists, which returns each value as a slice of one string bundling all the
// strings of a message. A stored value would then pin its message's keys and values
// (docs/benchmarks.md).
import { peerIdFromString } from '@libp2p/peer-id'
import { Packr } from 'msgpackr/pack'
import { Unpackr } from 'msgpackr/unpack'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'

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
  /** Sync (protocol 1.2): one UPDATES frame compressed with raw DEFLATE. */
  SYNC_DEFLATED: 8,
  /** A peer that holds nothing across a restart is leaving for good (gossip). */
  LEAVE: 9
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

export const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

export function unpackSafely(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes)
  } catch (err) {
    // msgpackr throws plain errors (and RangeError on absurd nesting): all mean "malformed".
    throw decodeError('bytes are not valid MessagePack', err)
  }
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
