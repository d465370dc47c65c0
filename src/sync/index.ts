/**
 * The sync service: the thin stream adapter around session.ts. It serves the
 * sync protocol, opens a round with each newly identified peer (the peer with
 * the smaller id opens it: one round repairs both sides) and one with a random
 * swarm peer every `interval`, and keeps the figures `status()` reports.
 */
import type { IdentifyResult, Logger, PeerId, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { raceSignal } from 'race-signal'
import type { DecodeLimits } from '../codec/index.js'
import { decodeSyncMessage, deflatedPayload, type SyncMessage } from '../codec/sync.js'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import type { SharedMemNode } from '../peer/node.js'
import type { Replica } from '../store/replica.js'
import { type Rejections, reasonOf } from '../util/rejections.js'
import { FrameCompressor, inflateFrame } from './compress.js'
import type { Membership } from './membership.js'
import { initiate, newResult, respond, type SessionContext, type SessionResult } from './session.js'

/** The sync protocol: 1.2 adds compressed frames to 1.1, which added flow control (acknowledged frames) to 1.0. */
export const SYNC_PROTOCOL = '/sharedmem/sync/1.2.0'
/** The sync protocol of peers before compression; a round with one sends frames as they are. */
export const SYNC_PROTOCOL_1_1 = '/sharedmem/sync/1.1.0'
/** The sync protocol of peers before flow control; a round with one runs without acknowledgements. */
export const SYNC_PROTOCOL_1_0 = '/sharedmem/sync/1.0.0'
const PROTOCOLS = [SYNC_PROTOCOL, SYNC_PROTOCOL_1_1, SYNC_PROTOCOL_1_0]

export interface SyncInit {
  node: SharedMemNode
  replica: Replica
  swarm: string
  limits: DecodeLimits
  /** Time between periodic rounds, in ms. */
  interval: number
  /** Time limit of one round, in ms. */
  timeout: number
  /** Entries per frame. */
  chunkEntries: number
  /** Soft byte limit of one frame's values. */
  chunkBytes: number
  /** Members scanned between two turns of the event loop. */
  scanBatch: number
  /** UPDATES frames a sender may have unacknowledged (protocol 1.1). */
  window: number
  /** What this peer knows of the swarm's members (watermark, quarantine); rounds update it. */
  membership: Membership
  /** Peer ids that share the swarm's gossip topic now (periodic rounds pick one). */
  swarmPeers: () => string[]
  /** Counts and reports refused input. */
  rejections: Rejections
  onRound?: (event: SyncRoundEvent) => void
  onProgress?: (event: SyncProgressEvent) => void
}

/** One finished round, as reported to `sync` listeners. */
export interface SyncRoundEvent extends SessionResult {
  peer: string
  role: 'initiator' | 'responder'
  durationMs: number
}

/** Progress of a long round (every `chunkEntries` entries). */
export interface SyncProgressEvent {
  peer: string
  sent: number
  received: number
}

/** What the sync service reports in `status()`. */
export interface SyncStatus {
  /** When a round last completed (ms since the epoch; 0 = never). */
  lastSyncAt: number
  /** Whether the last round found the replicas identical. */
  lastRoundInSync: boolean
  rounds: number
  failures: number
  /** Entries sent and received by sync since start. */
  entriesSent: number
  entriesReceived: number
  /** Rounds that compared digests and deferred the transfer (writes were arriving: see {@link DEFER_BUCKETS}). */
  deferred: number
  /** Bytes of sync frames sent and received since start. */
  bytesSent: number
  bytesReceived: number
}

export class Sync {
  readonly stats: SyncStatus = {
    lastSyncAt: 0,
    lastRoundInSync: true,
    rounds: 0,
    failures: 0,
    entriesSent: 0,
    entriesReceived: 0,
    deferred: 0,
    bytesSent: 0,
    bytesReceived: 0
  }
  private readonly init: SyncInit
  private readonly log: Logger = logger('sharedmem:sync')
  private readonly running = new Map<string, Promise<unknown>>()
  private controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private started = false
  private inbound = 0
  /** Periodic rounds this peer deferred in a row (at most MAX_DEFERRALS). */
  private deferrals = 0
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (PROTOCOLS.some((p) => protocols.includes(p)) && this.init.node.peerId.toString() < peerId.toString()) {
      void this.syncWith(peerId).catch(() => {})
    }
  }

  constructor(init: SyncInit) {
    this.init = init
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    await this.init.node.handle(
      PROTOCOLS,
      ({ stream, connection }) => {
        const peer = connection.remotePeer.toString()
        // A failed round is logged and counted in session(); an unhandled rejection here
        // would let any peer crash this process with a few bad bytes.
        this.track(`in:${peer}:${++this.inbound}`, this.session(stream, 'responder', peer)).catch(() => {})
      },
      { maxInboundStreams: 4 }
    )
    this.init.node.addEventListener('peer:identify', this.onIdentify)
    this.schedule()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearTimeout(this.timer)
    this.init.node.removeEventListener('peer:identify', this.onIdentify)
    this.controller.abort()
    await this.init.node.unhandle(PROTOCOLS)
    await Promise.allSettled(this.running.values())
  }

  /**
   * Runs one round with `peer` as initiator. A call while a round with `peer` runs joins it,
   * whichever side opened it: a round syncs both ways, and a second one alongside would have
   * the initiator send again every entry in every bucket that still differs, which is most of
   * them while a late joiner fills (docs/benchmarks.md). If the round it joined deferred its
   * transfer, it then runs one of its own: this call never settles on a deferred round.
   */
  syncWith(peer: PeerId | string): Promise<SessionResult> {
    return this.roundWith(peer, false).then((result) => (result.deferred ? this.syncWith(peer) : result))
  }

  /** {@link syncWith}; a `periodic` round may defer its transfer (DEFER_BUCKETS). */
  private roundWith(peer: PeerId | string, periodic: boolean): Promise<SessionResult> {
    const key = `out:${peer}`
    const current = this.running.get(key) ?? this.inboundFrom(`${peer}`)
    if (current !== undefined) return current as Promise<SessionResult>
    if (!this.started) return Promise.reject(new SharedMemError(ErrorCode.STOPPED, 'sync is stopped'))
    return this.track(key, this.initiateRounds(peer, periodic))
  }

  private async initiateRounds(peer: PeerId | string, periodic: boolean): Promise<SessionResult> {
    const target = typeof peer === 'string' ? this.connectedPeer(peer) : peer
    const stream = await this.init.node.dialProtocol(target, PROTOCOLS, { signal: this.controller.signal })
    const defer = periodic && this.deferrals < MAX_DEFERRALS
    return this.session(stream, 'initiator', target.toString(), defer ? DEFER_BUCKETS : undefined)
  }

  private connectedPeer(id: string): PeerId {
    const connection = this.init.node.getConnections().find((c) => c.remotePeer.toString() === id)
    if (connection === undefined) throw new SharedMemError(ErrorCode.REMOTE, `not connected to ${id}`)
    return connection.remotePeer
  }

  /** A round that `peer` opened with this side and that still runs, if any. */
  private inboundFrom(peer: string): Promise<unknown> | undefined {
    const prefix = `in:${peer}:`
    for (const [key, round] of this.running) if (key.startsWith(prefix)) return round
    return undefined
  }

  private track<T>(key: string, promise: Promise<T>): Promise<T> {
    const tracked = promise.finally(() => this.running.delete(key))
    this.running.set(key, tracked)
    return tracked
  }

  /** Re-arms itself: one round with a random swarm peer per interval. */
  private schedule(): void {
    this.timer = setTimeout(() => {
      const peers = this.init.swarmPeers()
      if (peers.length > 0) {
        const peer = peers[Math.floor(Math.random() * peers.length)]
        void this.roundWith(peer, true).catch(() => {})
      }
      if (this.started) this.schedule()
    }, this.init.interval)
  }

  private async session(
    stream: Stream,
    role: 'initiator' | 'responder',
    peer: string,
    deferAbove?: number
  ): Promise<SessionResult> {
    const { replica, limits } = this.init
    const started = Date.now()
    const result = newResult()
    const compressed = stream.protocol === SYNC_PROTOCOL
    const compressor = new FrameCompressor()
    const ctx: SessionContext = {
      replica,
      swarm: this.init.swarm,
      ...frameLimits(this.init, stream.protocol ?? ''),
      scanBatch: this.init.scanBatch,
      compress: compressed ? (frame) => compressor.compress(frame) : undefined,
      membership: this.init.membership,
      remote: peer,
      deferAbove,
      now: replica.clock.now,
      onProgress: (r) => this.init.onProgress?.({ peer, sent: r.sent, received: r.received }),
      onReject: (reason, message) => this.init.rejections.record('sync', reason, message)
    }
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.init.timeout)])
    const onAbort = (): void => stream.abort(new SharedMemError(ErrorCode.TIMEOUT, `sync with ${peer} was cut short`))
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      // Protocol 1.0 has no acknowledgements to bound a read-ahead queue: it reads as it merges.
      const ahead = stream.protocol === SYNC_PROTOCOL_1_0 ? 0 : 2 * this.init.window + 8
      const inbox = frames(stream, limits, this.stats, ahead, compressed)
      const outgoing = role === 'initiator' ? initiate(ctx, inbox, result) : respond(ctx, inbox, result)
      const piped = pipe(
        outgoing,
        (source) => counted(source, this.stats),
        (source) => lp.encode(source),
        stream.sink
      )
      piped.catch(() => {})
      // Aborting the stream does not always end a pipe whose reader has stopped pulling
      // (seen on stop during a large catch-up): the round settles on the signal regardless.
      await raceSignal(piped, signal)
      await raceSignal(stream.close(), signal)
    } catch (err) {
      this.stats.failures++
      if (result.refused !== undefined) this.log.error('sync %s with %s refused: %s', role, peer, result.refused)
      if (reasonOf(err) === 'decode')
        this.init.rejections.record('sync', 'decode', `from ${peer}: ${(err as Error).message}`)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      this.log('sync %s with %s failed: %e', role, peer, err)
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
    this.stats.rounds++
    if (result.deferred) {
      // Nothing was repaired: this side knows no more than before.
      this.stats.deferred++
      if (role === 'initiator') this.deferrals++
    } else if (result.complete) {
      this.deferrals = 0
      // This side now holds the other's state as of the round's start, and transitively what it held.
      this.init.membership.merge(peer, result.remoteRow, result.startedAt)
      this.stats.lastSyncAt = replica.clock.now()
      this.stats.lastRoundInSync = result.inSync
    }
    this.stats.entriesSent += result.sent
    this.stats.entriesReceived += result.received
    this.init.onRound?.({ ...result, peer, role, durationMs: Date.now() - started })
    return result
  }
}

/**
 * A periodic round defers its transfer when more than this many of the 4,096 buckets differ while
 * writes reach the initiator's replica during the digest exchange. Such a difference is mostly
 * writes still on their way by gossip, and a transfer sends every entry of each differing bucket
 * both ways: under sustained writes at full rate every bucket differs, and periodic rounds resent
 * the whole replica over and over (docs/benchmarks.md). Rounds on a new connection, and `syncNow()`,
 * never defer.
 */
export const DEFER_BUCKETS = 256

/** Periodic rounds a peer defers in a row at most: the next one repairs whatever differs, so dropped gossip waits at most this many intervals more. */
export const MAX_DEFERRALS = 2

/**
 * A compressed sync round (protocol 1.2) sends frames of this many times the batch limits
 * (8,192 entries and 2 MiB by default, within the swarm's message limits) under half the
 * window: a quarter of the frames to inflate, acknowledge and grant window for, which shortens a
 * late join (docs/benchmarks.md).
 */
const COMPRESSED_FRAME_SCALE = 4

/** Frame sizes and window of a round of `protocol`: compressed rounds send fewer, larger frames (COMPRESSED_FRAME_SCALE). */
function frameLimits(init: SyncInit, protocol: string): Pick<SessionContext, 'chunkEntries' | 'chunkBytes' | 'window'> {
  if (protocol === SYNC_PROTOCOL_1_0) return { chunkEntries: init.chunkEntries, chunkBytes: init.chunkBytes, window: 0 }
  if (protocol !== SYNC_PROTOCOL)
    return { chunkEntries: init.chunkEntries, chunkBytes: init.chunkBytes, window: init.window }
  // Within what the swarm's peers accept (peers share limits): a frame may pass its byte limit by one value.
  return {
    chunkEntries: Math.min(init.chunkEntries * COMPRESSED_FRAME_SCALE, init.limits.maxMessageEntries),
    chunkBytes: Math.min(init.chunkBytes * COMPRESSED_FRAME_SCALE, Math.floor(init.limits.maxMessageBytes / 2)),
    // Half the frames in flight (a receiver acknowledges up to 4 at once, so a window of 8 keeps
    // frames coming): at most 16 MiB queued when the values turn out not to compress.
    window: Math.ceil(init.window / 2)
  }
}

/**
 * Decoded frames of a sync stream, read `ahead` frames ahead of the merge (0: as it
 * merges). Compressed ones (`compressed`: protocol 1.2) wait in that queue as they came,
 * and each is inflated while the frame before it merges: only two frames are held
 * inflated at a time. Frames are decoded as they are taken: entries decoded ahead would
 * live long enough to be promoted, and cost the garbage collector more than their decoding.
 */
async function* frames(
  stream: Stream,
  limits: DecodeLimits,
  stats: SyncStatus,
  ahead: number,
  compressed: boolean
): AsyncGenerator<SyncMessage> {
  const raw = lp.decode(stream.source, { maxDataLength: limits.maxMessageBytes })
  const queued = ahead > 0 ? readAhead(raw, ahead) : raw
  for await (const frame of prefetched(inflated(queued, limits, stats, compressed))) {
    yield decodeSyncMessage(frame, limits)
  }
}

/** `source`, asking it for each next item as soon as the previous one is taken (so it works meanwhile). */
async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const items = source[Symbol.asyncIterator]()
  let pending = items.next()
  try {
    for (;;) {
      const item = await pending
      if (item.done === true) return
      pending = items.next()
      // Its failure is thrown when it is awaited, at the next turn; not reported as unhandled meanwhile.
      pending.catch(() => {})
      yield item.value
    }
  } finally {
    await items.return?.()
  }
}

/** The bytes of each frame, a DEFLATED one inflated (only where `compressed`: elsewhere it is refused as unknown). */
async function* inflated(
  source: AsyncIterable<{ byteLength: number; subarray(): Uint8Array }>,
  limits: DecodeLimits,
  stats: SyncStatus,
  compressed: boolean
): AsyncGenerator<Uint8Array> {
  for await (const frame of source) {
    stats.bytesReceived += frame.byteLength
    const bytes = frame.subarray()
    const payload = compressed ? deflatedPayload(bytes) : undefined
    yield payload === undefined ? bytes : await inflateFrame(payload, limits.maxMessageBytes)
  }
}

/**
 * Reads `source` ahead of its consumer, holding at most `limit` items. yamux grants
 * its sender more window only as the reader takes data, and never more than 256 KiB
 * on a fast link (its window grows with the measured round trip, which loopback
 * rounds to 0): a reader that stops while it merges a frame stalls the sender. Reading
 * ahead keeps the bytes moving; the sync protocol's own window (acknowledged frames)
 * bounds what is queued, and a peer that sends past it is cut off.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  const queue: T[] = []
  let ended = false
  let failure: unknown
  let wake: (() => void) | undefined
  const notify = (): void => {
    wake?.()
    wake = undefined
  }
  // The pump settles by itself (it records its failure); a consumer that stops early leaves it to
  // end with the stream.
  void (async () => {
    try {
      for await (const item of source) {
        if (queue.length >= limit)
          throw decodeError(`the peer sent more than ${limit} frames ahead of its acknowledgements`)
        queue.push(item)
        notify()
      }
    } catch (err) {
      failure = err
    } finally {
      ended = true
      notify()
    }
  })()
  for (;;) {
    if (queue.length > 0) yield queue.shift() as T
    else if (failure !== undefined) throw failure
    else if (ended) return
    else await new Promise<void>((resolve) => (wake = resolve))
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, stats: SyncStatus): AsyncGenerator<Uint8Array> {
  for await (const frame of source) {
    stats.bytesSent += frame.byteLength
    yield frame
  }
}
