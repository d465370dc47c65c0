/**
 * Which swarm peers are connected to which, as their own announcements say: what lets a peer
 * leave out of a gossip forward the peers that the message's publisher sent it to itself
 * (gossipsub.ts). A publisher sends every message to each peer it is connected to (flood
 * publish); in a swarm where every peer is connected to every other, as announcements make it,
 * a forward then only repeats what the receiver has (docs/benchmarks.md, "Frames per gossip message").
 *
 * Two peers count as connected only while the latest announcement of each, both younger than
 * `maxAge`, lists the other: a connection either side has lost, or a claim one side makes alone,
 * does not count. A peer announces again as soon as a connection of its own closes (peer.ts).
 */
import { type PeerAddrs, publisherOf } from '../codec/index.js'

export interface NeighboursInit {
  /** Announcements older than this, in ms, say nothing (a few announce intervals). */
  maxAge: number
  /** Announcers remembered; the least recently heard is forgotten first. */
  maxAnnouncers: number
  now?: () => number
}

interface Heard {
  readonly peers: ReadonlySet<string>
  readonly at: number
}

export class Neighbours {
  private readonly init: NeighboursInit
  private readonly now: () => number
  private readonly heard = new Map<string, Heard>()

  constructor(init: NeighboursInit) {
    this.init = init
    this.now = init.now ?? Date.now
  }

  /** Takes in an announcement: its sender first, then the peers it is connected to. */
  announced(peers: readonly PeerAddrs[]): void {
    const sender = peers[0]?.peerId
    if (sender === undefined) return
    this.heard.delete(sender)
    this.heard.set(sender, { peers: new Set(peers.slice(1).map((p) => p.peerId)), at: this.now() })
    if (this.heard.size > this.init.maxAnnouncers) {
      const oldest = this.heard.keys().next().value
      if (oldest !== undefined) this.heard.delete(oldest)
    }
  }

  /** The peers that `peer` and each of them say, in fresh announcements, are connected to each other. */
  connectedTo(peer: string): string[] {
    const now = this.now()
    const own = this.fresh(peer, now)
    if (own === undefined) return []
    const both: string[] = []
    for (const other of own.peers) if (this.fresh(other, now)?.peers.has(peer) === true) both.push(other)
    return both
  }

  /** The publisher of a gossip message, and the peers it sent the message to itself (as {@link connectedTo} knows). */
  direct(data: Uint8Array): { publisher: string; peers: string[] } | undefined {
    const publisher = publisherOf(data)
    return publisher === undefined ? undefined : { publisher, peers: this.connectedTo(publisher) }
  }

  clear(): void {
    this.heard.clear()
  }

  private fresh(peer: string, now: number): Heard | undefined {
    const heard = this.heard.get(peer)
    return heard !== undefined && now - heard.at <= this.init.maxAge ? heard : undefined
  }
}
