/**
 * The sync service: serves the sync protocol, opens a round with each newly identified peer
 * (the peer with the smaller id opens it: one round repairs both sides) and one with a random
 * swarm peer every `interval`, and keeps the figures `status()` reports. A round is the
 * exchange of session.ts run over a stream by stream.ts.
 */
import type { IdentifyResult, Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { DecodeLimits } from '../codec/index.js'
import { SYNC_REQUEST_WAIT } from '../constants.js'
import type { SyncProgressEvent, SyncRoundEvent, SyncStatus } from '../contract.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Replica } from '../store/replica.js'
import { type Rejections, reasonOf } from '../util/rejections.js'
import { CatchUp, type Place } from './catch-up.js'
import { FrameCompressor } from './compress.js'
import { newResult, type SessionContext, type SessionResult } from './context.js'
import { Deferrals } from './deferral.js'
import type { Membership } from './membership.js'
import { Rounds } from './rounds.js'
import { initiate, respond } from './session.js'
import { runOverStream } from './stream.js'
import { roundLimits, SYNC_PROTOCOL } from './version.js'

/** What sync uses of the libp2p node: the protocol handler, dials, connections and identify events. */
export type SyncNode = Pick<
  Libp2p,
  'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'addEventListener' | 'removeEventListener'
>

export interface SyncInit {
  node: SyncNode
  replica: Replica
  swarm: string
  limits: DecodeLimits
  /** Time between periodic rounds, in ms. */
  interval: number
  /** Time limit of one round, in ms. */
  timeout: number
  /** How long a request for a round waits for running rounds it cannot join, in ms. @default SYNC_REQUEST_WAIT */
  requestWait?: number
  /** Entries per frame (a round's frames hold a multiple: version.ts). */
  chunkEntries: number
  /** Soft byte limit of one frame's values. */
  chunkBytes: number
  /** Members scanned between two turns of the event loop. */
  scanBatch: number
  /** UPDATES frames a sender may have unacknowledged (a round uses a share: version.ts). */
  window: number
  /** What this peer knows of the swarm's members (watermark, quarantine); rounds update it. */
  membership: Membership
  /** Peer ids that share the swarm's gossip topic now (periodic rounds pick one). */
  swarmPeers: () => string[]
  /** Counts and reports refused input. */
  rejections: Rejections
  onRound?: (event: SyncRoundEvent) => void
  onProgress?: (event: SyncProgressEvent) => void
  /** Where this part logs. @default @libp2p/logger's `sharedmem:sync` */
  log?: Logger
}

type Role = SyncRoundEvent['role']

const reasonText = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** Running rounds a {@link Sync.syncWith} call waits for at most before it opens its own. */
const MAX_ROUNDS_AWAITED = 3

/** `round`'s result (undefined if it failed), or 'late' if it has not settled within `ms`. */
async function settledWithin(round: Promise<SessionResult>, ms: number): Promise<SessionResult | undefined | 'late'> {
  if (ms <= 0) return 'late'
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms)
  })
  try {
    return await Promise.race([round.catch(() => undefined), late])
  } finally {
    clearTimeout(timer)
  }
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
  private readonly log: Logger
  private readonly rounds = new Rounds()
  private readonly deferrals = new Deferrals()
  private readonly catchUp = new CatchUp()
  private controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private started = false
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (protocols.includes(SYNC_PROTOCOL) && this.init.node.peerId.toString() < peerId.toString()) {
      void this.syncWith(peerId).catch(() => {})
    }
  }

  constructor(init: SyncInit) {
    this.init = init
    this.log = init.log ?? logger('sharedmem:sync')
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    await this.init.node.handle(
      SYNC_PROTOCOL,
      ({ stream, connection }) => {
        const peer = connection.remotePeer.toString()
        // A failed round is logged and counted in round(); an unhandled rejection here
        // would let any peer crash this process with a few bad bytes.
        this.rounds.track(peer, 'in', () => this.round(stream, 'responder', peer)).round.catch(() => {})
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
    await this.init.node.unhandle(SYNC_PROTOCOL)
    await this.rounds.settled()
  }

  /**
   * Runs a round with `peer` that holds both sides' state as of this call (a new connection's round,
   * `syncNow()`), and never resolves with one that deferred. A call while this peer's own round with
   * `peer` opens joins it: a round syncs both ways, and a second one alongside would have the
   * initiator send again every entry in every bucket that still differs, which is most of them
   * while a late joiner fills (docs/benchmarks.md). A round already past its digest, one the other peer opened, or one that
   * deferred does not hold what this call asks for: the call waits for it, then runs its own.
   */
  async syncWith(peer: PeerId | string): Promise<SessionResult> {
    const id = `${peer}`
    const ask = this.rounds.ask()
    // Bounded in count and time: rounds the other peer opens one after another, or a slow one, never
    // hold this call back for long; it then opens its own alongside.
    const deadline = Date.now() + (this.init.requestWait ?? SYNC_REQUEST_WAIT)
    for (let waits = 0; waits < MAX_ROUNDS_AWAITED; waits++) {
      const running = this.rounds.with(id)
      if (running === undefined) break
      const result = await settledWithin(running.round, deadline - Date.now())
      if (result === 'late') break
      if (result?.complete === true && !result.deferred && running.covers >= ask) return result
    }
    // A round it opens defers only if it waited for its catch-up turn while this peer caught up
    // through another round (session.ts): the next one takes no turn, and does not defer.
    let result = await this.openRound(peer, undefined)
    if (result.deferred) result = await this.openRound(peer, undefined)
    return result
  }

  /**
   * {@link syncWith} every peer of `peers` at once; rejects once all are done if any round failed
   * with a peer still connected (ERR_REMOTE, naming each and why: the others' rounds still ran to
   * their end), or with ERR_STOPPED if sync stopped meanwhile. A peer that left is not a failure.
   */
  async syncAll(peers: string[]): Promise<void> {
    const outcomes = await Promise.allSettled(peers.map((peer) => this.syncWith(peer)))
    if (!this.started) throw new SharedMemError(ErrorCode.STOPPED, 'sync is stopped')
    const connected = new Set(this.init.node.getConnections().map((c) => c.remotePeer.toString()))
    const failed = outcomes.flatMap((o, i) =>
      o.status === 'rejected' && connected.has(peers[i]) ? [`${peers[i]} (${reasonText(o.reason)})`] : []
    )
    if (failed.length > 0) {
      throw new SharedMemError(
        ErrorCode.REMOTE,
        `sync failed with ${failed.length} of ${peers.length} peers: ${failed.join(', ')}`
      )
    }
  }

  /** A periodic round with `peer`, which may defer its transfer (deferral.ts); none while one with `peer` runs. */
  private roundWith(peer: string): Promise<SessionResult> | undefined {
    if (this.rounds.with(peer) !== undefined) return undefined
    return this.openRound(peer, this.deferrals.threshold(true))
  }

  private openRound(peer: PeerId | string, deferAbove: number | undefined): Promise<SessionResult> {
    if (!this.started) return Promise.reject(new SharedMemError(ErrorCode.STOPPED, 'sync is stopped'))
    return this.rounds.track(`${peer}`, 'out', (opened) => this.open(peer, deferAbove, opened)).round
  }

  private async open(
    peer: PeerId | string,
    deferAbove: number | undefined,
    opened: () => void
  ): Promise<SessionResult> {
    const target = typeof peer === 'string' ? this.connectedPeer(peer) : peer
    // While this peer catches up, its rounds send their DIGEST one after another (catch-up.ts).
    const opening = this.catchUp.open()
    try {
      const turnsUntil = await opening.wait(this.controller.signal)
      const stream = await this.init.node.dialProtocol(target, SYNC_PROTOCOL, { signal: this.controller.signal })
      opened()
      return await this.round(stream, 'initiator', target.toString(), deferAbove, { place: opening, turnsUntil })
    } finally {
      opening.release()
    }
  }

  private connectedPeer(id: string): PeerId {
    const connection = this.init.node.getConnections().find((c) => c.remotePeer.toString() === id)
    if (connection === undefined) throw new SharedMemError(ErrorCode.REMOTE, `not connected to ${id}`)
    return connection.remotePeer
  }

  /** Re-arms itself: one round with a random swarm peer per interval. */
  private schedule(): void {
    this.timer = setTimeout(() => {
      const peers = this.init.swarmPeers()
      if (peers.length > 0) {
        const peer = peers[Math.floor(Math.random() * peers.length)]
        void this.roundWith(peer)?.catch(() => {})
      }
      if (this.started) this.schedule()
    }, this.init.interval)
  }

  /** One round over `stream`, counted in the stats whether it ends or fails. */
  private async round(
    stream: Stream,
    role: Role,
    peer: string,
    deferAbove?: number,
    /** An initiator's place before its DIGEST while this peer catches up, and its turn's bound (catch-up.ts). */
    opening?: { place: Place<number>; turnsUntil: number }
  ): Promise<SessionResult> {
    const started = Date.now()
    const result = newResult()
    const limits = roundLimits(this.init)
    const ctx = this.context(peer, limits, deferAbove)
    const side = role === 'initiator' ? initiate : respond
    // Node 20 holds the sources of AbortSignal.any weakly: the timeout is held (to `finally`) so
    // that a collection of garbage during the round cannot drop it and leave the round unbounded.
    const timeout = AbortSignal.timeout(this.init.timeout)
    const signal = AbortSignal.any([this.controller.signal, timeout])
    // The round takes its place in the turns when it needs it (session.ts), and gives it up however it ends.
    let turn: Place<boolean> | undefined
    ctx.takeTurn = () => {
      // Its wait for the turns before its DIGEST counts towards this one (catch-up.ts).
      turn = this.catchUp.enter(opening?.turnsUntil)
      // In the turns now: the next round this peer opens may send its DIGEST once they let it.
      opening?.place.release()
      return turn.wait(signal)
    }
    try {
      await runOverStream(stream, (inbox) => side(ctx, inbox, result), {
        limits: this.init.limits,
        readAhead: limits.readAhead,
        counts: this.stats,
        signal,
        peer
      })
    } catch (err) {
      this.stats.failures++
      if (result.refused !== undefined) this.log.error('sync %s with %s refused: %s', role, peer, result.refused)
      if (reasonOf(err) === 'decode')
        this.init.rejections.record('sync', 'decode', `from ${peer}: ${(err as Error).message}`)
      this.log('sync %s with %s failed: %e', role, peer, err)
      throw err
    } finally {
      turn?.release()
      void timeout.aborted
    }
    this.settle(role, peer, result)
    this.init.onRound?.({ ...result, peer, role, durationMs: Date.now() - started })
    return result
  }

  private context(peer: string, limits: ReturnType<typeof roundLimits>, deferAbove?: number): SessionContext {
    const { replica } = this.init
    const compressor = new FrameCompressor()
    return {
      replica,
      swarm: this.init.swarm,
      chunkEntries: limits.chunkEntries,
      chunkBytes: limits.chunkBytes,
      window: limits.window,
      scanBatch: this.init.scanBatch,
      compress: (frame) => compressor.compress(frame),
      // A compressor of its own: leaves that do not compress must not stop the round's frames from trying.
      compressLeaves: (frame) => new FrameCompressor().compress(frame),
      membership: this.init.membership,
      remote: peer,
      deferAbove,
      now: replica.clock.now,
      onProgress: (r) => this.init.onProgress?.({ peer, sent: r.sent, received: r.received }),
      onReject: (reason, message) => this.init.rejections.record('sync', reason, message)
    }
  }

  /** Records a round that ended: the stats, the deferrals in a row, and what membership learns from it. */
  private settle(role: Role, peer: string, result: SessionResult): void {
    this.stats.rounds++
    this.deferrals.record(role, result)
    if (result.deferred) {
      // Nothing was repaired: this side knows no more than before.
      this.stats.deferred++
    } else if (result.complete) {
      this.catchUp.completed()
      // This side now holds the other's state as of the round's start, and transitively what it held.
      this.init.membership.merge(peer, result.remoteRow, result.startedAt)
      this.stats.lastSyncAt = this.init.replica.clock.now()
      this.stats.lastRoundInSync = result.inSync
    }
    this.stats.entriesSent += result.sent
    this.stats.entriesReceived += result.received
  }
}
