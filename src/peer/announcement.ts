/**
 * What a peer announces by gossip: itself and every connected peer whose listen addresses
 * identify has told it, within what receivers keep (the decoder's limits, and the addresses a
 * receiver dials), so that peers that share one bootstrap peer find each other.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import { MAX_ANNOUNCED_ADDR_LENGTH, MAX_ANNOUNCED_PEERS, type PeerAddrs } from '../codec/index.js'
import type { SharedMemNode } from './node.js'

/** The announcement of `node`: itself first, at most `addrsPerPeer` addresses a peer. */
export async function announcement(
  node: Pick<SharedMemNode, 'peerId' | 'getMultiaddrs' | 'getConnections' | 'peerStore'>,
  addrsPerPeer: number
): Promise<PeerAddrs[]> {
  const announceable = (addrs: Multiaddr[]): string[] =>
    addrs
      .map(String)
      .filter((a) => a.length <= MAX_ANNOUNCED_ADDR_LENGTH)
      .slice(0, addrsPerPeer)
  const peers: PeerAddrs[] = [{ peerId: node.peerId.toString(), addrs: announceable(node.getMultiaddrs()) }]
  const ids = new Set(node.getConnections().map((c) => c.remotePeer))
  for (const id of ids) {
    if (peers.length >= MAX_ANNOUNCED_PEERS) break
    try {
      const { addresses } = await node.peerStore.get(id)
      const addrs = announceable(addresses.map((a) => a.multiaddr.encapsulate(`/p2p/${id}`)))
      if (addrs.length > 0) peers.push({ peerId: id.toString(), addrs })
    } catch {
      // Not in the peer store (yet): identify has not finished; the next announcement lists it.
    }
  }
  return peers
}
