/**
 * The anti-entropy exchange, without I/O. Each side is an async generator of
 * outgoing frames that reads decoded incoming messages from `inbox`; the stream
 * adapter (index.ts) connects them to a libp2p stream, and tests connect them to
 * each other directly.
 *
 *   initiator                          responder
 *   DIGEST(group hashes)        ──►
 *                               ◄──    LEAVES(leaf hashes of differing groups)  — none: in sync, done
 *   REQUEST(differing buckets)  ──►
 *   UPDATES* (its entries there) ──►   merged as they arrive
 *   DONE                        ──►
 *                               ◄──    UPDATES* (what the initiator lacks), DONE
 *
 * The initiator sends everything it holds in the requested buckets, so the
 * responder can hash what it received per bucket: a bucket whose hash then equals
 * its own (after merging) holds nothing the initiator lacks, and is not sent back.
 *
 * Flow control (protocol 1.1): a receiver answers every UPDATES frame it has
 * merged with an ACK, and a sender keeps at most `window` frames unacknowledged.
 * The stream's own window cannot do this: yamux grants the whole window back as
 * soon as the reader takes any chunk, so a fast sender would queue a whole
 * replica in a slow receiver's memory.
 */
import { type Batch, Batcher } from '../codec/batcher.js'
import { type EntryFrame, encodeEntryTuples, encodeUpdates, type Updates } from '../codec/index.js'
import type { MemberRow } from '../codec/sync.js'
import { encodeAck, encodeDigest, encodeDone, encodeLeaves, encodeRequest, type SyncMessage } from '../codec/sync.js'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import { BUCKETS, Digest, hashCounter, LEAVES_PER_GROUP, type MemberHash } from '../store/digest.js'
import type { Replica } from '../store/replica.js'
import type { EntryUpdate } from '../store/types.js'
import { reasonOf } from '../util/rejections.js'
import type { Membership } from './membership.js'

export interface SessionContext {
  replica: Replica
  swarm: string
  /** Entries per UPDATES frame. */
  chunkEntries: number
  /** Soft byte limit of one frame's values (a single larger value still goes alone). */
  chunkBytes: number
  /** Members scanned between two turns of the event loop. */
  scanBatch: number
  /** UPDATES frames sent and not yet acknowledged, at most; 0: no acknowledgements (protocol 1.0). */
  window: number
  /**
   * An initiator given this defers the transfer when more buckets than this differ while
   * writes reach its replica during the digest exchange: it requests none. Such a difference
   * is mostly writes still on their way by gossip, and a transfer would send every entry of
   * those buckets (all of them, under sustained writes) both ways. None: never defers.
   */
  deferAbove?: number
  /** Turns an UPDATES frame into the frame to send (protocol 1.2: compressed when that pays); none: as it is. */
  compress?: (frame: Uint8Array) => Promise<Uint8Array>
  /** What this peer knows of the swarm's members: its row goes out, the other's is checked (quarantine). */
  membership: Membership
  /** The other side's peer id, when known (the stream's): its row must be its own. */
  remote?: string
  now: () => number
  /** Called after each frame of entries received or sent. */
  onProgress?: (result: SessionResult) => void
  /** Called for each received entry refused (its reason and details). */
  onReject?: (reason: string, message: string) => void
}

export interface SessionResult {
  /** True when the replicas were identical at the start of the round. */
  inSync: boolean
  /** Buckets found different. */
  buckets: number
  /** Entries and counter slots sent and received. */
  sent: number
  received: number
  /** Received entries refused (clock skew). */
  rejected: number
  /** Digests were compared but the initiator requested no bucket ({@link SessionContext.deferAbove}): nothing was repaired. */
  deferred: boolean
  /** When this side started the round (its clock): it then holds the other's state as of this time, once complete. */
  startedAt: number
  /** The other side's member row, as it sent it (empty until received). */
  remoteRow: MemberRow
  /** Why this side refused the round (quarantine), if it did. */
  refused?: string
  /** The round ran to its end: each side then holds the other's state as of the round's start. */
  complete: boolean
}

export function newResult(): SessionResult {
  return {
    inSync: false,
    buckets: 0,
    sent: 0,
    received: 0,
    rejected: 0,
    deferred: false,
    startedAt: 0,
    remoteRow: [],
    complete: false
  }
}

type Inbox = AsyncIterator<SyncMessage>

const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function next(inbox: Inbox): Promise<SyncMessage | undefined> {
  const r = await inbox.next()
  return r.done === true ? undefined : r.value
}

function expect<T extends SyncMessage['type']>(
  msg: SyncMessage | undefined,
  type: T
): Extract<SyncMessage, { type: T }> | undefined {
  if (msg === undefined) return undefined
  if (msg.type !== type) throw decodeError(`expected a sync ${type} message, got ${msg.type}`)
  return msg as Extract<SyncMessage, { type: T }>
}

/** Refuses the round (quarantine) when membership says so, after recording why. */
function checkMember(ctx: SessionContext, row: MemberRow, result: SessionResult): void {
  result.remoteRow = row
  const remote = row[0][0]
  if (ctx.remote !== undefined && remote !== ctx.remote) throw decodeError(`member row of ${remote} from ${ctx.remote}`)
  const refusal = ctx.membership.refusal(remote, row)
  if (refusal === undefined) return
  ctx.membership.refused++
  result.refused = refusal
  throw new SharedMemError(ErrorCode.REMOTE, `sync refused (quarantine): ${refusal}`)
}

/** Entries merged between two turns of the event loop: the stream keeps reading (and granting window) meanwhile. */
const MERGE_SLICE = 512

/** `received`, when given, accumulates the digest of every member received (merged or not). */
async function merge(
  ctx: SessionContext,
  msg: Updates | EntryFrame,
  result: SessionResult,
  received?: Digest
): Promise<void> {
  const { replica } = ctx
  const hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }
  const reject = (entry: EntryUpdate, err: unknown): void => {
    result.rejected++
    ctx.onReject?.(reasonOf(err), `${entry.collection}/${entry.key} from ${entry.node}: ${(err as Error).message}`)
  }
  for (const err of msg.refused) {
    result.rejected++
    ctx.onReject?.(reasonOf(err), `an update left out of a frame: ${err.message}`)
  }
  const count = msg.type === 'frame' ? msg.batch.length : msg.entries.length
  for (let from = 0; from < count; from += MERGE_SLICE) {
    // One clock reading per slice: merging one takes a millisecond at most.
    if (from > 0) await breathe()
    const now = ctx.now()
    const to = Math.min(count, from + MERGE_SLICE)
    const before = result.rejected
    if (msg.type === 'frame') replica.mergeBatch(msg.batch, from, to, now, received, reject)
    else {
      // Entries of an earlier layout (a peer of an earlier release), one by one.
      for (const entry of msg.entries.slice(from, to)) {
        try {
          replica.mergeReceived(entry, now, received)
        } catch (err) {
          reject(entry, err)
        }
      }
    }
    result.received += to - from - (result.rejected - before)
  }
  for (const counter of msg.counters) {
    received?.toggle(hashCounter(counter.counter, counter.slot, counter.inc, counter.dec, hash))
    replica.mergeCounter(counter)
    result.received++
  }
  ctx.onProgress?.(result)
}

/**
 * The frames this side may still send before it must wait for an acknowledgement.
 * Waiting reads the inbox, which then holds nothing but acknowledgements: the
 * other side sends its own entries only after this side's DONE.
 */
class Credit {
  private readonly inbox: Inbox
  private readonly window: number
  private unacked = 0

  constructor(inbox: Inbox, window: number) {
    this.inbox = inbox
    this.window = window
  }

  /** Resolves once one more frame may be sent. */
  async take(): Promise<void> {
    if (this.window === 0) return
    while (this.unacked >= this.window) {
      const msg = await next(this.inbox)
      if (msg === undefined) throw decodeError('sync stream ended while frames were unacknowledged')
      if (msg.type !== 'ack') throw decodeError(`expected a sync acknowledgement, got ${msg.type}`)
      this.acked(msg.frames)
    }
    this.unacked++
  }

  /** Counts an acknowledgement; one for frames never sent is a protocol error. */
  acked(frames: number): void {
    if (this.window === 0 || frames > this.unacked) throw decodeError('sync acknowledgement of frames not sent')
    this.unacked -= frames
  }
}

/**
 * Frames merged that one acknowledgement may cover, at most. Acknowledging several at once
 * saves the receiver a write each (an encrypted frame and a system call, which wakes the
 * sender), while the sender's window (16 frames by default) stays open.
 */
const MAX_ACK_BATCH = 4

/** The next message, with its failure left to whoever awaits it (not reported as unhandled meanwhile). */
function upcoming(inbox: Inbox): Promise<SyncMessage | undefined> {
  const promise = next(inbox)
  promise.catch(() => {})
  return promise
}

/** Whether `promise` settles before the event loop's next turn: the next frame is already here. */
function readyNow(promise: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true
    ),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))
  ])
}

/**
 * Receives UPDATES frames until DONE (or the end of the stream), acknowledging them once
 * merged (protocol 1.1): up to MAX_ACK_BATCH at once while more are already queued, and at
 * once whenever none is, so a sender waiting for credit (whatever its window) always gets
 * it. Acknowledgements of this side's own frames still in the inbox are counted on `credit`.
 */
async function* receiveAll(
  ctx: SessionContext,
  inbox: Inbox,
  result: SessionResult,
  credit: Credit,
  received?: Digest
): AsyncGenerator<Uint8Array, boolean> {
  let unacknowledged = 0
  let done = false
  for (let pending = upcoming(inbox); ; pending = upcoming(inbox)) {
    if (unacknowledged > 0 && (unacknowledged >= MAX_ACK_BATCH || !(await readyNow(pending)))) {
      yield encodeAck(unacknowledged)
      unacknowledged = 0
    }
    const msg = await pending
    if (msg === undefined) break
    if (msg.type === 'done') {
      done = true
      break
    }
    if (msg.type === 'ack') {
      credit.acked(msg.frames)
      continue
    }
    if (msg.type !== 'frame' && msg.type !== 'updates') throw decodeError(`expected sync entries, got ${msg.type}`)
    await merge(ctx, msg, result, received)
    if (ctx.window > 0) unacknowledged++
    // Buffered frames arrive through microtasks alone: yield, or timers and I/O wait for the whole round.
    await breathe()
  }
  if (unacknowledged > 0) yield encodeAck(unacknowledged)
  return done
}

/** This side's entries and counter slots in the masked buckets, as UPDATES frames within `credit`, then DONE. */
async function* sendBuckets(
  ctx: SessionContext,
  mask: Uint8Array,
  result: SessionResult,
  credit: Credit
): AsyncGenerator<Uint8Array> {
  if (mask.every((wanted) => wanted === 0)) {
    // Nothing wanted (a deferred round): no scan of the replica.
    yield encodeDone()
    return
  }
  const batcher = new Batcher(ctx.chunkEntries, ctx.chunkBytes)
  // Waits for credit first: a frame is counted as sent once it may go.
  const send = async (count: number, encode: () => Uint8Array): Promise<Uint8Array> => {
    await credit.take()
    result.sent += count
    ctx.onProgress?.(result)
    const frame = encode()
    return ctx.compress === undefined ? frame : ctx.compress(frame)
  }
  const frame = ({ entries, counters }: Batch): Promise<Uint8Array> =>
    send(entries.length + counters.length, () => encodeUpdates(entries, counters))
  let entriesSent = false
  if (mask.every((wanted) => wanted !== 0)) {
    // Every bucket (a peer that joins empty, in practice): entries encoded straight from the store.
    const batches = ctx.replica.encodeEverything(ctx.chunkEntries, ctx.chunkBytes, ctx.scanBatch)
    let step = batches.next()
    for (; step.done !== true; step = batches.next()) {
      const batch = step.value
      if (batch === undefined) await breathe()
      else yield send(batch.count, () => encodeEntryTuples(batch.nodes, batch.entries, batch.count))
    }
    entriesSent = step.value
  }
  const scans = entriesSent
    ? [{ entries: [], counters: [...ctx.replica.counterSlots()] }]
    : ctx.replica.scanBuckets(mask, ctx.scanBatch)
  for (const scanned of scans) {
    for (const update of scanned.entries) {
      const full = batcher.addEntry({ update })
      if (full !== undefined) yield frame(full)
    }
    for (const counter of scanned.counters) {
      const full = batcher.addCounter(counter)
      if (full !== undefined) yield frame(full)
    }
    await breathe()
  }
  const rest = batcher.take()
  if (rest !== undefined) yield frame(rest)
  yield encodeDone()
}

/** The side that opened the stream. */
export async function* initiate(ctx: SessionContext, inbox: Inbox, result: SessionResult): AsyncGenerator<Uint8Array> {
  result.startedAt = ctx.now()
  ctx.replica.ageDigest(result.startedAt)
  const sent = ctx.replica.digest.groups()
  yield encodeDigest(ctx.swarm, ctx.membership.row(), sent)
  const leaves = expect(await next(inbox), 'leaves')
  if (leaves === undefined) return
  checkMember(ctx, leaves.row, result)
  if (leaves.groups.length === 0) {
    result.inSync = true
    result.complete = true
    return
  }
  const mask = new Uint8Array(BUCKETS)
  const own = ctx.replica.digest.leaves
  leaves.groups.forEach((group, i) => {
    for (let j = 0; j < LEAVES_PER_GROUP; j++) {
      const bucket = group * LEAVES_PER_GROUP + j
      const theirs = (i * LEAVES_PER_GROUP + j) * 2
      if (own[bucket * 2] !== leaves.leaves[theirs] || own[bucket * 2 + 1] !== leaves.leaves[theirs + 1]) {
        mask[bucket] = 1
        result.buckets++
      }
    }
  })
  if (ctx.deferAbove !== undefined && result.buckets > ctx.deferAbove && changed(sent, ctx.replica.digest.groups())) {
    mask.fill(0)
    result.deferred = true
  }
  yield encodeRequest(mask)
  const credit = new Credit(inbox, ctx.window)
  yield* sendBuckets(ctx, mask, result, credit)
  result.complete = yield* receiveAll(ctx, inbox, result, credit)
}

/** The side that accepted the stream. */
export async function* respond(ctx: SessionContext, inbox: Inbox, result: SessionResult): AsyncGenerator<Uint8Array> {
  const digest = expect(await next(inbox), 'digest')
  if (digest === undefined) return
  if (digest.swarm !== ctx.swarm) throw decodeError(`sync from swarm "${digest.swarm}", this is "${ctx.swarm}"`)
  result.startedAt = ctx.now()
  ctx.replica.ageDigest(result.startedAt)
  checkMember(ctx, digest.row, result)
  const own = ctx.replica.digest.groups()
  const differing: number[] = []
  for (let g = 0; g < own.length / 2; g++) {
    if (own[g * 2] !== digest.groups[g * 2] || own[g * 2 + 1] !== digest.groups[g * 2 + 1]) differing.push(g)
  }
  const leaves = new Uint32Array(differing.length * LEAVES_PER_GROUP * 2)
  for (const [i, g] of differing.entries()) leaves.set(ctx.replica.digest.groupLeaves(g), i * LEAVES_PER_GROUP * 2)
  yield encodeLeaves(ctx.membership.row(), differing, leaves)
  if (differing.length === 0) {
    result.inSync = true
    result.complete = true
    return
  }
  const request = expect(await next(inbox), 'request')
  if (request === undefined) return
  result.buckets = request.mask.reduce((n, b) => n + b, 0)
  // Groups differed: an empty request comes from an initiator that deferred (or whose own writes
  // since its digest made every differing bucket equal). Either way nothing was compared here.
  result.deferred = result.buckets === 0
  const received = new Digest()
  const credit = new Credit(inbox, ctx.window)
  if (!(yield* receiveAll(ctx, inbox, result, credit, received))) return
  // A bucket that now hashes as the initiator's did holds nothing it lacks.
  const mine = ctx.replica.digest.leaves
  const theirs = received.leaves
  const mask = request.mask.map((wanted, b) =>
    wanted !== 0 && (mine[b * 2] !== theirs[b * 2] || mine[b * 2 + 1] !== theirs[b * 2 + 1]) ? 1 : 0
  )
  yield* sendBuckets(ctx, mask, result, credit)
  result.complete = true
}

/** Whether two sets of group hashes differ anywhere. */
function changed(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true
  return false
}
