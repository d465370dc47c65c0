/**
 * Keeps a peer connected. It dials the bootstrap addresses at start and again
 * whenever they are not connected. It announces the listen addresses of this
 * peer and of the peers it is connected to (periodically, and as soon as a new
 * subscriber can hear it), and dials the peers that others announce: a peer
 * between two strangers introduces them, so peers that share a bootstrap reach
 * each other directly and survive the bootstrap peer going away.
 *
 * Announcements come from anyone who reaches this peer, so what they can cost
 * is bounded ({@link AnnouncedPeers}): they are remembered in a bounded book and
 * dialled from it a few at a time, at a limited rate.
 *
 * What each bootstrap dial found is kept and reported by {@link BootstrapAddresses}.
 */
import type { Logger, PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerAddrs } from '../codec/index.js'
import * as defaults from '../constants.js'
import type { BootstrapAddressStatus } from '../contract.js'
import { TokenBucket } from '../util/token-bucket.js'
import { type AnnouncedLimits, AnnouncedPeers, type PeerState, targetsOf } from './announced.js'
import { announcement } from './announcement.js'
import { BootstrapAddresses, type DialResult } from './bootstrap.js'
import { dialFailure, explainTimeout } from './dial-failure.js'
import type { SharedMemNode } from './node.js'

/** The part of the libp2p node the dialer uses. */
export type DialerNode = Pick<SharedMemNode, 'peerId' | 'getMultiaddrs' | 'getConnections' | 'peerStore' | 'dial'>

/** Bounds on what announcements make a peer remember and dial. */
export interface DialerLimits extends AnnouncedLimits {
  /** Dials of announced peers at once. */
  dialsInFlight: number
  /** Dials of announced peers in a burst. */
  dialBurst: number
  /** Time between dials of announced peers once the burst is spent, in ms. */
  dialInterval: number
}

export interface DialerInit {
  node: DialerNode
  bootstrap: Multiaddr[]
  redialInterval: number
  dialTimeout: number
  /** Publishes an announcement listing these peers. */
  announce: (peers: PeerAddrs[]) => void
  announceInterval: number
  /**
   * Bounds on announcements. @default the `DEFAULT_ANNOUNCE*` and `DEFAULT_ANNOUNCED_*` constants;
   * a sender's interval is `announceInterval / senderBurst`.
   */
  limits?: Partial<DialerLimits>
  /** Told of each refused announcement (or part of one), with a stable reason such as `announce-rate`. */
  onRefuse?: (reason: string, message: string) => void
  /** Told when a bootstrap address's state or problem changes (not at every redial). */
  onBootstrap?: (status: BootstrapAddressStatus) => void
  /** A monotonic clock, in ms. @default performance.now */
  now?: () => number
  /** Where this part logs. @default @libp2p/logger's `sharedmem:dialer` */
  log?: Logger
}

/** What the dialer did with announcements, for tests and status. */
export interface AnnouncedStats {
  /** Announced peers remembered now, waiting to be dialled. */
  peers: number
  /** Addresses kept for them. */
  addrs: number
  /** Peers whose failed dials are remembered (backoff). */
  failures: number
  /** Senders whose announcement rate is tracked. */
  senders: number
  /** Dials of announced peers under way. */
  dialling: number
  /** Dials of announced peers started since the start. */
  dials: number
}

/** The outcome of one dial, or nothing when it was skipped (under way, or stopped). */
type DialOutcome = DialResult | undefined

export class Dialer {
  private readonly init: DialerInit
  private readonly limits: DialerLimits
  private readonly now: () => number
  private readonly log: Logger
  private readonly known: BootstrapAddresses
  /** Whether a dial of this peer's ever reached a peer. */
  private reached = false
  /** Dials under way, by bootstrap address or announced peer id. */
  private readonly inFlight = new Set<string>()
  private readonly book: AnnouncedPeers
  private readonly dialTokens: TokenBucket
  private announcedInFlight = 0
  private announcedDials = 0
  private controller = new AbortController()
  private redialTimer: NodeJS.Timeout | undefined
  private announceTimer: NodeJS.Timeout | undefined
  private announcePending: NodeJS.Immediate | undefined
  private pumpTimer: NodeJS.Timeout | undefined
  private started = false

  constructor(init: DialerInit) {
    this.init = init
    this.log = init.log ?? logger('sharedmem:dialer')
    this.now = init.now ?? (() => performance.now())
    const senderBurst = init.limits?.senderBurst ?? defaults.DEFAULT_ANNOUNCE_SENDER_BURST
    this.limits = {
      addrsPerPeer: defaults.DEFAULT_ANNOUNCED_ADDRS_PER_PEER,
      peersRemembered: defaults.DEFAULT_ANNOUNCED_PEERS_REMEMBERED,
      peerTtl: defaults.DEFAULT_ANNOUNCED_PEER_TTL,
      senderBurst,
      senderInterval: init.announceInterval / senderBurst,
      sendersTracked: defaults.DEFAULT_ANNOUNCE_SENDERS_TRACKED,
      backoff: defaults.DEFAULT_ANNOUNCED_DIAL_BACKOFF,
      backoffMax: defaults.DEFAULT_ANNOUNCED_DIAL_BACKOFF_MAX,
      failuresRemembered: defaults.DEFAULT_DIAL_FAILURES_REMEMBERED,
      dialsInFlight: defaults.DEFAULT_ANNOUNCED_DIALS_IN_FLIGHT,
      dialBurst: defaults.DEFAULT_ANNOUNCED_DIAL_BURST,
      dialInterval: defaults.DEFAULT_ANNOUNCED_DIAL_INTERVAL,
      ...init.limits
    }
    this.book = new AnnouncedPeers(this.limits)
    this.dialTokens = new TokenBucket(this.limits.dialBurst, this.limits.dialInterval, this.now())
    this.known = new BootstrapAddresses(init.bootstrap, init.dialTimeout, init.onBootstrap)
  }

  /** Each bootstrap address as last dialled. */
  get bootstrap(): BootstrapAddressStatus[] {
    return this.known.status
  }

  /** Whether a dial of this peer's (bootstrap or announced) ever reached a peer. */
  get everReached(): boolean {
    return this.reached
  }

  /** What announcements hold now. */
  get announced(): AnnouncedStats {
    return { ...this.book.size, dialling: this.announcedInFlight, dials: this.announcedDials }
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
    clearTimeout(this.pumpTimer)
    this.announcePending = undefined
    this.pumpTimer = undefined
    this.book.clear()
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

  private async announce(): Promise<void> {
    const peers = await announcement(this.init.node, this.limits.addrsPerPeer)
    if (this.started) this.init.announce(peers)
  }

  /**
   * Takes in an announcement received by gossip (its sender listed first): refused whole when
   * that sender announced too often; otherwise the listed peers worth dialling are remembered
   * and dialled as the limits allow.
   */
  dialAnnounced(peers: PeerAddrs[]): void {
    const sender = peers[0]?.peerId
    if (!this.started || sender === undefined) return
    const now = this.now()
    if (!this.book.admit(sender, now)) {
      this.refuse('announce-rate', `an announcement from ${sender}, beyond ${this.limits.senderBurst} a burst`)
      return
    }
    this.consider(peers, now)
  }

  /** Takes in peers found on this host (the rendezvous directory): no sender, the same bounds on dials. */
  dialDiscovered(peers: PeerAddrs[]): void {
    if (this.started) this.consider(peers, this.now())
  }

  private consider(peers: PeerAddrs[], now: number): void {
    const { evicted, noAddress } = this.book.offer(peers, now, this.peerState())
    if (evicted > 0) {
      this.refuse('announce-limit', `${evicted} announced peers forgotten: over ${this.limits.peersRemembered}`)
    }
    if (noAddress > 0) {
      this.refuse('announce-addrs', `${noAddress} announced peers without an address naming them`)
    }
    this.pump()
  }

  private peerState(): PeerState {
    const self = this.init.node.peerId.toString()
    const connected = new Set(this.init.node.getConnections().map((c) => c.remotePeer.toString()))
    return { connected: (id) => id === self || connected.has(id), dialling: (id) => this.inFlight.has(id) }
  }

  /** Dials remembered peers while a dial slot and a token are free; re-arms itself for the next token. */
  private pump(): void {
    if (!this.started) return
    let state: PeerState | undefined
    while (this.announcedInFlight < this.limits.dialsInFlight && this.book.pending) {
      const now = this.now()
      const wait = this.dialTokens.wait(now)
      if (wait > 0) {
        this.pumpTimer ??= setTimeout(() => {
          this.pumpTimer = undefined
          this.pump()
        }, wait)
        return
      }
      state ??= this.peerState()
      const candidate = this.book.take(now, state)
      if (candidate === undefined) return
      const targets = targetsOf(candidate)
      if (targets.length === 0) {
        this.refuse('announce-addrs', `no address of ${candidate.peerId} parses as one to dial`)
        continue
      }
      this.dialTokens.take(now)
      void this.dialAnnouncedPeer(candidate.peerId, targets)
    }
  }

  private async dialAnnouncedPeer(peerId: string, targets: Multiaddr[]): Promise<void> {
    this.announcedInFlight++
    this.announcedDials++
    try {
      const outcome = await this.dial(peerId, targets)
      if (outcome !== undefined && 'peer' in outcome) {
        this.book.succeeded(peerId)
      } else if (outcome !== undefined && this.started) {
        this.book.failed(peerId, this.now())
        await this.forget(peerId)
      }
    } finally {
      this.announcedInFlight--
      this.pump()
    }
  }

  /**
   * Deletes what libp2p stored about a peer this peer failed to reach and is not connected to (a
   * record of the failed dial): otherwise every invented peer id dialled would stay in memory.
   */
  private async forget(peerId: string): Promise<void> {
    try {
      const id = peerIdFromString(peerId)
      if (this.init.node.getConnections(id).length === 0) await this.init.node.peerStore.delete(id)
    } catch (err) {
      this.log('could not forget %s: %e', peerId, err)
    }
  }

  private refuse(reason: string, message: string): void {
    this.log('refused %s: %s', reason, message)
    this.init.onRefuse?.(reason, message)
  }

  /** Dials every bootstrap address not connected now, then re-arms itself. */
  private redial(): void {
    const connected = (peer: PeerId): boolean => this.init.node.getConnections(peer).length > 0
    for (const addr of this.known.toDial(connected)) {
      void this.dial(addr.toString(), addr)
        .then((outcome) => this.explained(addr, outcome))
        .then((outcome) => {
          if (outcome !== undefined && this.started) this.known.dialled(addr, outcome)
        })
    }
    if (this.started) this.redialTimer = setTimeout(() => this.redial(), this.init.redialInterval)
  }

  /** A bootstrap dial's outcome, a timeout looked at again (dial-failure.ts `explainTimeout`). */
  private async explained(addr: Multiaddr, outcome: DialOutcome): Promise<DialOutcome> {
    if (outcome === undefined || !('err' in outcome) || dialFailure(outcome.err, 0).problem !== 'timeout')
      return outcome
    const tcp = addr.toOptions()
    if (tcp.transport !== 'tcp') return outcome
    return {
      err: await explainTimeout(outcome.err, tcp.host, tcp.port, defaults.HANDSHAKE_PROBE_WAIT, this.controller.signal)
    }
  }

  private async dial(label: string, target: Multiaddr | Multiaddr[]): Promise<DialOutcome> {
    if (this.inFlight.has(label) || !this.started) return undefined
    this.inFlight.add(label)
    try {
      const timeout = AbortSignal.timeout(this.init.dialTimeout)
      const signal = AbortSignal.any([this.controller.signal, timeout])
      // Node 20 holds the sources of AbortSignal.any weakly: with nothing else holding the timeout
      // signal, a collection of garbage during the dial dropped it, and a dial of a peer that
      // never answers never ended (the peer never became ready). Held here until the dial ends.
      const connection = await this.init.node.dial(target, { signal }).finally(() => timeout.aborted)
      this.reached = true
      return { peer: connection.remotePeer }
    } catch (err) {
      if (!this.started) return undefined
      this.log('dial %s failed: %e', label, err)
      return { err }
    } finally {
      this.inFlight.delete(label)
    }
  }
}
