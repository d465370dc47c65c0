/**
 * What announcements may make a peer remember. Anyone who reaches a peer can
 * announce peers and addresses of its choosing, so the book is bounded in every
 * direction: a few announcements per sender and interval; a few addresses per
 * peer (only ones this peer could dial, naming the announced id); a bounded
 * number of peers waiting to be dialled (the least recently announced is
 * forgotten first, none outlives its time to live, the newest is dialled
 * first); and a peer whose dial failed is left alone for a growing while.
 * Only strings are compared here: the few addresses actually dialled are
 * parsed when they are (`targetsOf`). Time is passed in; nothing here does I/O.
 */
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { PeerAddrs } from '../codec/index.js'
import { TokenBucket } from '../util/token-bucket.js'

export interface AnnouncedLimits {
  /** Addresses kept per announced peer. */
  addrsPerPeer: number
  /** Announced peers remembered until dialled. */
  peersRemembered: number
  /** How long an announced peer is remembered without being announced again, in ms. */
  peerTtl: number
  /** Announcements of one sender processed in a burst. */
  senderBurst: number
  /** Time between announcements of one sender processed once its burst is spent, in ms. */
  senderInterval: number
  /** Senders whose rate is tracked. */
  sendersTracked: number
  /** Wait after a first failed dial, in ms; doubled on each failure in a row. */
  backoff: number
  /** Longest wait after failed dials, in ms. */
  backoffMax: number
  /** Peers whose failed dials are remembered. */
  failuresRemembered: number
}

/** An announced peer waiting to be dialled, with the addresses kept for it. */
export interface Candidate {
  peerId: string
  addrs: string[]
}

/** What one offer did with the peers it listed. */
export interface OfferResult {
  /** Peers remembered (new or refreshed). */
  remembered: number
  /** Peers forgotten to make room (the least recently announced). */
  evicted: number
  /** Peers refused because none of their addresses is one this peer could dial. */
  noAddress: number
}

/** What the dialer knows of a peer id now. */
export interface PeerState {
  /** This peer itself, or connected already: never dialled, and its failures are forgotten. */
  connected(peerId: string): boolean
  /** Being dialled now. */
  dialling(peerId: string): boolean
}

interface Failure {
  count: number
  retryAt: number
}

interface Waiting extends Candidate {
  seenAt: number
}

export class AnnouncedPeers {
  private readonly limits: AnnouncedLimits
  /** Insertion order is announcement order: the first entry is the least recently announced. */
  private readonly waiting = new Map<string, Waiting>()
  private readonly failures = new Map<string, Failure>()
  private readonly senders = new Map<string, TokenBucket>()

  constructor(limits: AnnouncedLimits) {
    this.limits = limits
  }

  /** Peers remembered now, and the addresses kept for them. */
  get size(): { peers: number; addrs: number; failures: number; senders: number } {
    let addrs = 0
    for (const c of this.waiting.values()) addrs += c.addrs.length
    return { peers: this.waiting.size, addrs, failures: this.failures.size, senders: this.senders.size }
  }

  /** True if `sender` may have one more announcement processed at `now` (and counts it). */
  admit(sender: string, now: number): boolean {
    let bucket = this.senders.get(sender)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limits.senderBurst, this.limits.senderInterval, now)
    } else {
      this.senders.delete(sender)
    }
    this.senders.set(sender, bucket)
    trim(this.senders, this.limits.sendersTracked)
    return bucket.take(now)
  }

  /**
   * Remembers the listed peers worth dialling: neither connected (nor this peer), nor being
   * dialled, nor waiting out a failed dial, and with at least one address this peer could dial.
   */
  offer(peers: PeerAddrs[], now: number, state: PeerState): OfferResult {
    const result: OfferResult = { remembered: 0, evicted: 0, noAddress: 0 }
    for (const { peerId, addrs } of peers) {
      if (state.connected(peerId)) {
        this.failures.delete(peerId)
        continue
      }
      if (state.dialling(peerId)) continue
      const failure = this.failures.get(peerId)
      if (failure !== undefined && failure.retryAt > now) continue
      const kept = dialableAddrs(peerId, addrs, this.limits.addrsPerPeer)
      if (kept.length === 0) {
        result.noAddress++
        continue
      }
      this.waiting.delete(peerId)
      this.waiting.set(peerId, { peerId, addrs: kept, seenAt: now })
      result.remembered++
      result.evicted += trim(this.waiting, this.limits.peersRemembered)
    }
    return result
  }

  /**
   * Removes and returns the most recently announced peer still worth dialling, if any: newest
   * first, so that once a flood of invented peers stops, the next honest announcement is dialled
   * next instead of behind everything the flood left. Peers past their time to live are forgotten.
   */
  take(now: number, state: PeerState): Candidate | undefined {
    for (const [peerId, candidate] of this.waiting) {
      if (candidate.seenAt + this.limits.peerTtl > now) break
      this.waiting.delete(peerId)
    }
    const newestFirst = [...this.waiting.keys()].reverse()
    for (const peerId of newestFirst) {
      const candidate = this.waiting.get(peerId) as Waiting
      this.waiting.delete(peerId)
      if (!state.connected(peerId) && !state.dialling(peerId)) return { peerId, addrs: candidate.addrs }
    }
    return undefined
  }

  /** True while some peer waits to be dialled. */
  get pending(): boolean {
    return this.waiting.size > 0
  }

  /** Records a failed dial: the peer is not dialled again, whoever announces it, until its backoff has passed. */
  failed(peerId: string, now: number): void {
    const count = (this.failures.get(peerId)?.count ?? 0) + 1
    const wait = Math.min(this.limits.backoff * 2 ** Math.min(count - 1, 30), this.limits.backoffMax)
    this.failures.delete(peerId)
    this.failures.set(peerId, { count, retryAt: now + wait })
    trim(this.failures, this.limits.failuresRemembered)
  }

  /** Records a connection: the peer's failures are forgotten. */
  succeeded(peerId: string): void {
    this.failures.delete(peerId)
  }

  /** Forgets everything (at stop). */
  clear(): void {
    this.waiting.clear()
    this.failures.clear()
    this.senders.clear()
  }
}

/** The shape of an address the TCP transport dials: `/ip4|ip6/<host>/tcp/<port>/p2p/<id>`. */
const IP_TCP_P2P = /^\/ip[46]\/[^/]+\/tcp\/\d{1,5}\/p2p\/[^/]+$/

/**
 * At most `max` of `addrs` that this peer could dial and that name `peerId` as their last part,
 * without duplicates. A string test only; `targetsOf` parses.
 */
export function dialableAddrs(peerId: string, addrs: readonly string[], max: number): string[] {
  const suffix = `/p2p/${peerId}`
  const kept: string[] = []
  for (const addr of addrs) {
    if (kept.length >= max) break
    if (!IP_TCP_P2P.test(addr) || !addr.endsWith(suffix)) continue
    if (!kept.includes(addr)) kept.push(addr)
  }
  return kept
}

/** The candidate's addresses as multiaddrs, without those that do not parse (their shape was checked when kept). */
export function targetsOf(candidate: Candidate): Multiaddr[] {
  const targets: Multiaddr[] = []
  for (const addr of candidate.addrs) {
    try {
      targets.push(multiaddr(addr))
    } catch {
      // An unparsable address (an IP such as 999.1.1.1) is skipped; the others may still work.
    }
  }
  return targets
}

/** Deletes the oldest entries of `map` beyond `max`; returns how many. */
function trim(map: Map<string, unknown>, max: number): number {
  let removed = 0
  for (const key of map.keys()) {
    if (map.size <= max) break
    map.delete(key)
    removed++
  }
  return removed
}
