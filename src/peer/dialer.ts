/**
 * Keeps a peer connected. It dials the bootstrap addresses at start and again
 * whenever they are not connected. It announces the listen addresses of this
 * peer and of the peers it is connected to (periodically, and as soon as a new
 * subscriber can hear it), and dials the peers that others announce: a peer
 * between two strangers introduces them, so peers that share a bootstrap reach
 * each other directly and survive the bootstrap peer going away.
 */
import type { Logger, PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { PeerAddrs } from '../codec/index.js'
import type { SharedMemNode } from './node.js'

export interface DialerInit {
  node: SharedMemNode
  bootstrap: Multiaddr[]
  redialInterval: number
  dialTimeout: number
  /** Publishes an announcement listing these peers. */
  announce: (peers: PeerAddrs[]) => void
  announceInterval: number
}

export class Dialer {
  private readonly init: DialerInit
  private readonly log: Logger = logger('sharedmem:dialer')
  /** Peer id learned for each bootstrap address (from its first connection). */
  private readonly known = new Map<Multiaddr, PeerId | undefined>()
  private readonly inFlight = new Set<string>()
  private controller = new AbortController()
  private redialTimer: NodeJS.Timeout | undefined
  private announceTimer: NodeJS.Timeout | undefined
  private announcePending: NodeJS.Immediate | undefined
  private started = false

  constructor(init: DialerInit) {
    this.init = init
    for (const addr of init.bootstrap) this.known.set(addr, undefined)
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    this.redial()
    this.announceTimer = setInterval(() => void this.announce(), this.init.announceInterval)
  }

  stop(): void {
    if (!this.started) return
    this.started = false
    clearTimeout(this.redialTimer)
    clearInterval(this.announceTimer)
    clearImmediate(this.announcePending)
    this.announcePending = undefined
    this.controller.abort()
  }

  /** Announces this peer on the next turn of the event loop (repeated calls coalesce). */
  announceSoon(): void {
    if (!this.started || this.announcePending !== undefined) return
    this.announcePending = setImmediate(() => {
      this.announcePending = undefined
      void this.announce()
    })
  }

  /** Announces this peer and every connected peer whose listen addresses identify has told us. */
  private async announce(): Promise<void> {
    const node = this.init.node
    const peers: PeerAddrs[] = [{ peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) }]
    const ids = new Set(node.getConnections().map((c) => c.remotePeer))
    for (const id of ids) {
      try {
        const { addresses } = await node.peerStore.get(id)
        const addrs = addresses.map((a) => a.multiaddr.encapsulate(`/p2p/${id}`).toString())
        if (addrs.length > 0) peers.push({ peerId: id.toString(), addrs })
      } catch {
        // Not in the peer store (yet): identify has not finished; the next announcement lists it.
      }
    }
    if (this.started) this.init.announce(peers)
  }

  /** Dials the announced peers that are neither this peer nor connected already. */
  dialAnnounced(peers: PeerAddrs[]): void {
    const node = this.init.node
    const self = node.peerId.toString()
    const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()))
    for (const { peerId, addrs } of peers) {
      if (peerId === self || connected.has(peerId)) continue
      const targets: Multiaddr[] = []
      for (const addr of addrs) {
        try {
          const ma = multiaddr(addr)
          if (ma.getPeerId() === peerId) targets.push(ma)
        } catch {
          // An unparsable address is skipped; the others may still work.
        }
      }
      if (targets.length > 0) void this.dial(peerId, targets)
    }
  }

  /** Dials every bootstrap address not connected now, then re-arms itself. */
  private redial(): void {
    for (const [addr, id] of this.known) {
      if (id === undefined || this.init.node.getConnections(id).length === 0) {
        void this.dial(addr.toString(), addr).then((peer) => {
          if (peer !== undefined) this.known.set(addr, peer)
        })
      }
    }
    if (this.started) this.redialTimer = setTimeout(() => this.redial(), this.init.redialInterval)
  }

  private async dial(label: string, target: Multiaddr | Multiaddr[]): Promise<PeerId | undefined> {
    if (this.inFlight.has(label) || !this.started) return undefined
    this.inFlight.add(label)
    try {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.dialTimeout)])
      const connection = await this.init.node.dial(target, { signal })
      return connection.remotePeer
    } catch (err) {
      if (this.started) this.log('dial %s failed: %e', label, err)
      return undefined
    } finally {
      this.inFlight.delete(label)
    }
  }
}
