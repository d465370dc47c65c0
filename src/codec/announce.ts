/**
 * The membership messages of gossip: ANNOUNCE (the peers a sender is connected to, so that
 * others can dial them) and LEAVE (a memory-only peer stopping), encoded and decoded.
 */
import { decodeError } from '../errors.js'
import type { Reader } from '../value/reader.js'
import { checkEnd, type Envelope, guard, isCount, isNodeId, MessageType, startMessage } from './base.js'

/** A peer and the addresses it listens on. */
export interface PeerAddrs {
  peerId: string
  addrs: string[]
}

/** The decoded content of an ANNOUNCE message: the sender and the peers it is connected to. */
export interface Announce {
  type: 'announce'
  peers: PeerAddrs[]
  sentAt: number
}

/**
 * The decoded content of a LEAVE message: a peer with no data directory is stopping, so nothing
 * it holds can come back, and no collection needs to wait for it (docs/semantics.md).
 */
export interface Leave {
  type: 'leave'
  peerId: string
}

/** Most peers one announcement may list, addresses per peer, and characters per address. */
export const MAX_ANNOUNCED_PEERS = 256
const MAX_ANNOUNCED_ADDRS = 32
export const MAX_ANNOUNCED_ADDR_LENGTH = 256

/** Encodes an ANNOUNCE message: `sentAt` makes each one unique, so gossip does not drop repeats as duplicates. */
export function encodeAnnounce(peers: PeerAddrs[], sentAt: number): Uint8Array {
  let size = 16
  for (const p of peers) for (const a of p.addrs) size += a.length + 8
  const w = startMessage(MessageType.ANNOUNCE, 4, size + peers.length * 64)
  w.arrayHeader(peers.length)
  for (const p of peers) {
    w.arrayHeader(2)
    w.str(p.peerId)
    w.arrayHeader(p.addrs.length)
    for (const a of p.addrs) w.str(a)
  }
  w.number(sentAt)
  return w.finish()
}

/** Encodes a LEAVE message (`sentAt`, as in ANNOUNCE, keeps two of them apart). */
export function encodeLeave(peerId: string, sentAt: number): Uint8Array {
  const w = startMessage(MessageType.LEAVE, 4, 80)
  w.str(peerId)
  w.number(sentAt)
  return w.finish()
}

/** The fields of a LEAVE message after its type and version; throws `ERR_DECODE` for malformed ones. */
export function decodeLeave({ r, fields }: Envelope): Leave {
  return guard(() => {
    if (fields !== 4) throw decodeError('malformed leave message')
    const peerId = r.str()
    const sentAt = r.count()
    if (!isNodeId(peerId) || !isCount(sentAt)) throw decodeError('malformed leave message')
    checkEnd(r)
    return { type: 'leave', peerId }
  })
}

/** The fields of an ANNOUNCE message after its type and version; throws `ERR_DECODE` for malformed ones. */
export function decodeAnnounce({ r, fields }: Envelope): Announce {
  return guard(() => {
    if (fields !== 4) throw decodeError('malformed announcement')
    // Counts are checked before anything is read or kept for them.
    const count = r.array()
    if (count > MAX_ANNOUNCED_PEERS) throw decodeError('malformed announcement')
    const peers: PeerAddrs[] = []
    for (let i = 0; i < count; i++) peers.push(readPeerAddrs(r))
    const sentAt = r.count()
    if (!isCount(sentAt)) throw decodeError('malformed announcement')
    checkEnd(r)
    return { type: 'announce', peers, sentAt }
  })
}

function readPeerAddrs(r: Reader): PeerAddrs {
  if (r.array() !== 2) throw decodeError('announced peer is not a 2-field tuple')
  const peerId = r.str()
  const count = r.array()
  if (!isNodeId(peerId) || count > MAX_ANNOUNCED_ADDRS) throw decodeError('malformed announced peer')
  const addrs: string[] = []
  for (let i = 0; i < count; i++) {
    const a = r.str()
    if (a === undefined || !a.startsWith('/') || a.length > MAX_ANNOUNCED_ADDR_LENGTH) {
      throw decodeError('announced address is not a multiaddr string')
    }
    addrs.push(a)
  }
  return { peerId, addrs }
}
