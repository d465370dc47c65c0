/**
 * The membership messages of gossip: ANNOUNCE (the peers a sender is connected to, so that
 * others can dial them) and LEAVE (a memory-only peer stopping), encoded and decoded.
 */
import { decodeError } from '../errors.js'
import { isCount, isNodeId, MessageType, packr, WIRE_VERSION } from './base.js'

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
  return packr.pack([MessageType.ANNOUNCE, WIRE_VERSION, peers.map((p) => [p.peerId, p.addrs]), sentAt])
}

/** Encodes a LEAVE message (`sentAt`, as in ANNOUNCE, keeps two of them apart). */
export function encodeLeave(peerId: string, sentAt: number): Uint8Array {
  return packr.pack([MessageType.LEAVE, WIRE_VERSION, peerId, sentAt])
}

export function decodeLeave(msg: unknown[]): Leave {
  const [, , peerId, sentAt] = msg
  if (msg.length !== 4 || !isNodeId(peerId) || !isCount(sentAt)) throw decodeError('malformed leave message')
  return { type: 'leave', peerId }
}

export function decodeAnnounce(msg: unknown[]): Announce {
  const [, , peers, sentAt] = msg
  if (msg.length !== 4 || !Array.isArray(peers) || peers.length > MAX_ANNOUNCED_PEERS || !isCount(sentAt)) {
    throw decodeError('malformed announcement')
  }
  return { type: 'announce', peers: peers.map(decodePeerAddrs), sentAt }
}

function decodePeerAddrs(tuple: unknown): PeerAddrs {
  if (!Array.isArray(tuple) || tuple.length !== 2) throw decodeError('announced peer is not a 2-field tuple')
  const [peerId, addrs] = tuple
  if (!isNodeId(peerId) || !Array.isArray(addrs) || addrs.length > MAX_ANNOUNCED_ADDRS) {
    throw decodeError('malformed announced peer')
  }
  if (!addrs.every((a) => typeof a === 'string' && a.startsWith('/') && a.length <= MAX_ANNOUNCED_ADDR_LENGTH)) {
    throw decodeError('announced address is not a multiaddr string')
  }
  return { peerId, addrs }
}
