/**
 * The only module that knows gossipsub. Local writes are queued and published
 * together once per event-loop turn (only the latest write of each key and the
 * latest totals of each counter slot are kept), split by count and size. Received
 * messages are decoded under limits and merged into the replica.
 */
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { type Batch, Batcher } from '../codec/batcher.js'
import {
  type Announce,
  type DecodeLimits,
  decodeFrame,
  type EntryFrame,
  encodeAnnounce,
  encodeLeave,
  encodeUpdates,
  type Leave,
  type PeerAddrs,
  type WireEntry
} from '../codec/index.js'
import type { GossipStats } from '../contract.js'
import type { Replica } from '../store/replica.js'
import type { CounterUpdate, EntryUpdate } from '../store/types.js'
import { type Rejections, reasonOf } from '../util/rejections.js'

/** The part of gossipsub this module uses. */
export interface PubSubLike {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  publish(topic: string, data: Uint8Array): Promise<unknown>
  getSubscribers(topic: string): Array<{ toString(): string }>
  addEventListener(type: 'message', listener: (evt: CustomEvent<GossipMessage>) => void): void
  addEventListener(type: 'subscription-change', listener: (evt: CustomEvent<SubscriptionChange>) => void): void
  removeEventListener(type: 'message', listener: (evt: CustomEvent<GossipMessage>) => void): void
  removeEventListener(type: 'subscription-change', listener: (evt: CustomEvent<SubscriptionChange>) => void): void
}

export interface SubscriptionChange {
  subscriptions: Array<{ topic: string; subscribe: boolean }>
}

export interface GossipMessage {
  topic: string
  data: Uint8Array
  /** 'signed' messages carry their signer in `from`. */
  type?: 'signed' | 'unsigned'
  from?: { toString(): string }
}

export interface GossipInit {
  pubsub: PubSubLike
  topic: string
  replica: Replica
  limits: DecodeLimits
  maxBatchEntries: number
  maxBatchBytes: number
  /** Called with the peers listed in each announcement received. */
  onAnnounce?: (peers: PeerAddrs[]) => void
  /** Called with the id of each peer that says it leaves for good (it holds nothing across a restart). */
  onLeave?: (peerId: string) => void
  /** Accept only signed messages whose every update was written by the signer. */
  requireSignedOrigin: boolean
  /** Counts and reports refused input. */
  rejections: Rejections
  /** Called when a peer subscribes to the topic (a new route for announcements). */
  onSubscriber?: () => void
  /**
   * True while no peer at all is connected. A batch then reaches nobody, and gossipsub
   * would only hold it in its message cache for seconds: it is not published. A peer
   * that connects later gets those writes from the sync round that every new connection
   * starts, whose digest is taken after the connection opened. @default never
   */
  isolated?: () => boolean
  /** Test-only fault injection: true to drop this received message. */
  dropIncoming?: () => boolean
  /** Where this part logs. @default @libp2p/logger's `sharedmem:gossip` */
  log?: Logger
}

type Decoded = EntryFrame | Announce | Leave

export class Gossip {
  readonly stats: GossipStats = {
    messagesOut: 0,
    unsentIsolated: 0,
    messagesIn: 0,
    rejected: 0,
    applied: 0,
    publishErrors: 0,
    lagMs: 0
  }
  private readonly init: GossipInit
  private readonly log: Logger
  /**
   * Queued entry writes, oldest first; a key written again in the same turn is sent once,
   * its latest write ({@link latestOfEachKey}, at flush). An array, not a map kept up to
   * date by every write: a map filled across the turn has V8 promote far more of each write
   * to the old generation (docs/benchmarks.md).
   */
  private pendingEntries: WireEntry[] = []
  private readonly pendingCounters = new Map<string, CounterUpdate>()
  private flushHandle: NodeJS.Immediate | undefined
  private started = false
  private readonly onMessage = (evt: CustomEvent<GossipMessage>): void => this.receive(evt.detail)
  private readonly onSubscriptionChange = (evt: CustomEvent<SubscriptionChange>): void => {
    if (evt.detail.subscriptions.some((s) => s.subscribe && s.topic === this.init.topic)) this.init.onSubscriber?.()
  }

  constructor(init: GossipInit) {
    this.init = init
    this.log = init.log ?? logger('sharedmem:gossip')
  }

  start(): void {
    if (this.started) return
    this.started = true
    this.init.pubsub.addEventListener('message', this.onMessage)
    this.init.pubsub.addEventListener('subscription-change', this.onSubscriptionChange)
    this.init.pubsub.subscribe(this.init.topic)
  }

  /** Publishes what is queued, then stops listening. */
  async stop(): Promise<void> {
    if (!this.started) return
    await this.flush()
    this.started = false
    this.init.pubsub.removeEventListener('message', this.onMessage)
    this.init.pubsub.removeEventListener('subscription-change', this.onSubscriptionChange)
    this.init.pubsub.unsubscribe(this.init.topic)
  }

  /** Queues a local entry write for the next batch. */
  queueEntry(update: EntryUpdate): void {
    this.pendingEntries.push({ update })
    this.scheduleFlush()
  }

  /** Queues a local counter change for the next batch. */
  queueCounter(update: CounterUpdate): void {
    this.pendingCounters.set(`${update.counter}\u0000${update.slot}`, update)
    this.scheduleFlush()
  }

  /** Publishes everything queued now, in as few messages as the limits allow. */
  async flush(): Promise<void> {
    if (this.flushHandle !== undefined) {
      clearImmediate(this.flushHandle)
      this.flushHandle = undefined
    }
    const entries = latestOfEachKey(this.pendingEntries)
    const counters = [...this.pendingCounters.values()]
    this.pendingEntries = []
    this.pendingCounters.clear()
    if (this.init.isolated?.() === true) {
      this.stats.unsentIsolated += entries.length + counters.length
      return
    }
    const sends: Array<Promise<void>> = []
    const batcher = new Batcher(this.init.maxBatchEntries, this.init.maxBatchBytes)
    const send = (batch: Batch | undefined): void => {
      if (batch !== undefined) sends.push(this.publish(batch.entries, batch.counters))
    }
    for (const entry of entries) send(batcher.addEntry(entry))
    for (const counter of counters) send(batcher.addCounter(counter))
    send(batcher.take())
    await Promise.all(sends)
  }

  /** Peer ids of the connected peers known to share the swarm's topic. */
  peers(): string[] {
    return this.started ? this.init.pubsub.getSubscribers(this.init.topic).map(String) : []
  }

  /** Tells the swarm where this peer and the peers it is connected to listen. */
  announce(peers: PeerAddrs[]): void {
    if (!this.started) return
    this.init.pubsub.publish(this.init.topic, encodeAnnounce(peers, Date.now())).catch((err: unknown) => {
      this.log('announcement failed: %e', err)
    })
  }

  /**
   * Tells the swarm this peer leaves for good: its pending writes first, then the notice. Only a
   * peer that holds nothing across a restart may say it (a memory-only one).
   */
  async leave(peerId: string): Promise<void> {
    if (!this.started) return
    await this.flush()
    if (this.init.isolated?.() === true) return
    try {
      await this.init.pubsub.publish(this.init.topic, encodeLeave(peerId, Date.now()))
    } catch (err) {
      this.log('leave notice failed: %e', err)
    }
  }

  private scheduleFlush(): void {
    if (this.flushHandle === undefined && this.started) {
      this.flushHandle = setImmediate(() => {
        this.flushHandle = undefined
        void this.flush()
      })
    }
  }

  private async publish(entries: WireEntry[], counters: CounterUpdate[]): Promise<void> {
    try {
      const data = encodeUpdates(entries, counters, this.init.replica.node)
      this.stats.messagesOut++
      await this.init.pubsub.publish(this.init.topic, data)
    } catch (err) {
      this.stats.publishErrors++
      this.log.error('publish of %d updates failed: %e', entries.length + counters.length, err)
    }
  }

  private receive(msg: GossipMessage): void {
    if (msg.topic !== this.init.topic) return
    if (this.init.dropIncoming?.() === true) return
    this.stats.messagesIn++
    let decoded: Decoded
    try {
      decoded = decodeFrame(msg.data, this.init.limits)
    } catch (err) {
      this.reject(reasonOf(err), `a message that does not decode: ${(err as Error).message}`)
      return
    }
    if (this.init.requireSignedOrigin) {
      const forged = this.forgedOrigin(msg, decoded)
      if (forged !== undefined) {
        this.reject('forged-origin', forged)
        return
      }
    }
    if (decoded.type === 'announce') {
      this.init.onAnnounce?.(decoded.peers)
      return
    }
    if (decoded.type === 'leave') {
      this.init.onLeave?.(decoded.peerId)
      return
    }
    for (const err of decoded.refused) this.reject(reasonOf(err), `an update left out of a message: ${err.message}`)
    const now = this.init.replica.clock.now()
    const onReject = (entry: EntryUpdate, err: unknown): void =>
      this.reject(reasonOf(err), `${entry.collection}/${entry.key} from ${entry.node}: ${(err as Error).message}`)
    const { batch } = decoded
    for (let i = 0; i < batch.length; i++) this.observeLag(now, batch.wall(i))
    this.stats.applied += this.init.replica.mergeBatch(batch, 0, batch.length, now, undefined, onReject)
    for (const counter of decoded.counters) {
      if (this.init.replica.mergeCounter(counter)) this.stats.applied++
    }
  }

  /** Exponential moving average over about the last hundred writes. */
  private observeLag(now: number, wall: number): void {
    this.stats.lagMs += (Math.max(now - wall, 0) - this.stats.lagMs) / 100
  }

  /** Why a message is not the signer's own writing, or undefined when it is. */
  private forgedOrigin(msg: GossipMessage, decoded: Decoded): string | undefined {
    if (msg.type !== 'signed' || msg.from === undefined) return 'an unsigned message where signing is required'
    const signer = msg.from.toString()
    if (decoded.type === 'announce') {
      return decoded.peers[0]?.peerId === signer ? undefined : `an announcement signed by ${signer} for another peer`
    }
    if (decoded.type === 'leave') {
      return decoded.peerId === signer ? undefined : `a leave notice signed by ${signer} for another peer`
    }
    const { batch } = decoded
    for (let i = 0; i < batch.length; i++) {
      const node = batch.nodes[batch.nodeOf(i)]
      if (node !== signer) return `${signer} signed a write claiming to be from ${node}`
    }
    const counter = decoded.counters.find((c) => !c.slot.startsWith(`${signer}/`))
    if (counter !== undefined) return `${signer} signed counter totals of slot ${counter.slot}`
    return undefined
  }

  private reject(reason: string, message: string): void {
    this.stats.rejected++
    this.log('rejected %s: %s', reason, message)
    this.init.rejections.record('gossip', reason, message)
  }
}

/** `queued` without the writes that a later write of the same key in it supersedes, in order. */
function latestOfEachKey(queued: WireEntry[]): WireEntry[] {
  if (queued.length < 2) return queued
  const latest = new Map<string, Map<string, number>>()
  let superseded = 0
  for (let i = 0; i < queued.length; i++) {
    const { collection, key } = queued[i].update
    let keys = latest.get(collection)
    if (keys === undefined) {
      keys = new Map()
      latest.set(collection, keys)
    }
    const size = keys.size
    keys.set(key, i)
    if (keys.size === size) superseded++
  }
  if (superseded === 0) return queued
  return queued.filter(({ update }, i) => latest.get(update.collection)?.get(update.key) === i)
}
