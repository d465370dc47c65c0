/**
 * The versioned wire format (docs/protocol.md). Messages are MessagePack
 * arrays whose first two fields are the message type and version.
 * Values travel inline, so a batch is encoded and decoded in one pass; the
 * message size limit bounds the work before decoding, and every value is then
 * checked against the value limits. Decoding validates every field: malformed
 * input throws `ERR_DECODE` and nothing else.
 *
 * Each message has its module (updates.ts, announce.ts, sync.ts); this entry
 * re-exports them and tells a gossip message's type, and its publisher, from its first bytes.
 */
import { decodeError } from '../errors.js'
import { Reader } from '../value/reader.js'
import { type Announce, decodeAnnounce, decodeLeave, type Leave } from './announce.js'
import { isNodeId, MessageType, readEnvelope, UPDATES_VERSION, WIRE_VERSION } from './base.js'
import { type DecodeLimits, type EntryFrame, readEntryFrame, type Updates, unsupportedUpdates } from './updates.js'

export {
  type Announce,
  encodeAnnounce,
  encodeLeave,
  type Leave,
  MAX_ANNOUNCED_ADDR_LENGTH,
  MAX_ANNOUNCED_PEERS,
  type PeerAddrs
} from './announce.js'
export { MessageType, UPDATES_VERSION, WIRE_VERSION } from './base.js'
export {
  type DecodeLimits,
  type EntryFrame,
  encodeEntryTuples,
  encodeUpdates,
  readEntryFrame,
  type Updates,
  unsupportedUpdates,
  type WireEntry,
  wireSize
} from './updates.js'

/** Decodes a gossip message under `limits`; throws `ERR_DECODE` for anything malformed. */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits): Updates | Announce | Leave {
  const msg = decodeFrame(bytes, limits)
  return msg.type === 'frame'
    ? { type: 'updates', entries: msg.batch.toArray(), counters: msg.counters, refused: msg.refused }
    : msg
}

/**
 * {@link decodeMessage}, leaving the entries of an UPDATES message as columns over its
 * bytes (what gossip merges).
 */
export function decodeFrame(bytes: Uint8Array, limits: DecodeLimits): EntryFrame | Announce | Leave {
  if (bytes.byteLength > limits.maxMessageBytes) {
    throw decodeError(`message of ${bytes.byteLength} bytes exceeds the limit of ${limits.maxMessageBytes}`)
  }
  const frame = readEntryFrame(bytes, limits)
  if (frame !== undefined) return frame
  const msg = readEnvelope(bytes)
  const { type, version } = msg
  if (type === MessageType.UPDATES) throw unsupportedUpdates(version)
  if (type !== MessageType.ANNOUNCE && type !== MessageType.LEAVE)
    throw decodeError(`unknown message type ${String(type)}`)
  if (version !== WIRE_VERSION) throw decodeError(`unsupported wire version ${String(version)}`)
  return type === MessageType.LEAVE ? decodeLeave(msg) : decodeAnnounce(msg)
}

/**
 * The peer that published a gossip UPDATES message, read from its first bytes: the first of its
 * node table, where a publisher numbers itself (encodeUpdates' `publisher`). Undefined for any
 * other message, or one whose head is not well formed. A hint for routing (who has the message
 * already), never trusted for a write: the decoder checks every writer.
 */
export function publisherOf(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 4 || bytes[0] !== 0x95 || bytes[1] !== MessageType.UPDATES || bytes[2] !== UPDATES_VERSION)
    return undefined
  try {
    const r = new Reader(bytes, 3)
    if (r.array() === 0) return undefined
    const node = r.str()
    return isNodeId(node) ? node : undefined
  } catch {
    return undefined
  }
}
