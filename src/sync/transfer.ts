/**
 * The transfer of a sync round: one side's entries and counter slots of the wanted buckets as
 * UPDATES frames, merged by the other as they arrive, under an acknowledged window.
 *
 * Flow control: a receiver answers every UPDATES frame it has merged with an ACK, and a sender
 * keeps at most `window` frames unacknowledged. The stream's own window cannot do this: yamux
 * grants the whole window back as soon as the reader takes any chunk, so a fast sender would
 * queue a whole replica in a slow receiver's memory.
 */
import { type Batch, Batcher } from '../codec/batcher.js'
import { type EntryFrame, encodeEntryTuples, encodeUpdates } from '../codec/index.js'
import { encodeAck, encodeDone, type SyncMessage } from '../codec/sync.js'
import { decodeError } from '../errors.js'
import { type Digest, hashCounter, type MemberHash } from '../store/digest.js'
import type { EntryUpdate } from '../store/types.js'
import { reasonOf } from '../util/rejections.js'
import { breathe, ended, type Inbox, next, type SessionContext, type SessionResult } from './context.js'
import type { RoundLeaves } from './round-leaves.js'

/** Entries merged between two turns of the event loop at most: the stream keeps reading (and granting window) meanwhile. */
const MERGE_SLICE = 512
/**
 * Entries merged before the time a slice has taken is read, and the time after which a slice
 * ends early: code that V8 has not compiled yet merges many times slower, and a joiner's first
 * slices were among the longest blocks of its event loop (docs/benchmarks.md).
 */
const MERGE_STEP = 64
const SLICE_MS = 4

/**
 * Frames merged that one acknowledgement may cover, at most. Acknowledging several at once
 * saves the receiver a write each (an encrypted frame and a system call, which wakes the
 * sender), while the sender's window (16 frames by default) stays open.
 */
const MAX_ACK_BATCH = 4

/**
 * The frames this side may still send before it must wait for an acknowledgement.
 * Waiting reads the inbox, which then holds nothing but acknowledgements: the
 * other side sends its own entries only after this side's DONE.
 */
export class Credit {
  private readonly inbox: Inbox
  private readonly window: number
  private unacked = 0

  constructor(inbox: Inbox, window: number) {
    // A window of 0 would wait for an acknowledgement before the first frame, for ever.
    if (!(window >= 1)) throw new RangeError(`a sync window of ${window} frames; it must be at least 1`)
    this.inbox = inbox
    this.window = window
  }

  /** Resolves once one more frame may be sent. */
  async take(): Promise<void> {
    while (this.unacked >= this.window) {
      const msg = await next(this.inbox)
      if (msg === undefined) throw ended('acknowledging every frame sent')
      if (msg.type !== 'ack') throw decodeError(`expected a sync acknowledgement, got ${msg.type}`)
      this.acked(msg.frames)
    }
    this.unacked++
  }

  /** Counts an acknowledgement; one for frames never sent is a protocol error. */
  acked(frames: number): void {
    if (frames > this.unacked) throw decodeError('sync acknowledgement of frames not sent')
    this.unacked -= frames
  }
}

/**
 * Receives UPDATES frames until DONE (or the end of the stream), acknowledging them once
 * merged: up to MAX_ACK_BATCH at once while more are already queued, and at once whenever
 * none is, so a sender waiting for credit (whatever its window) always gets it.
 * Acknowledgements of this side's own frames still in the inbox are counted on `credit`.
 * `received`, when given, accumulates the digest of every member received (merged or not), and
 * `own` what the merges change. A stream that ends before DONE fails the round ({@link ended}).
 */
export async function* receiveAll(
  ctx: SessionContext,
  inbox: Inbox,
  result: SessionResult,
  credit: Credit,
  received?: Digest,
  own?: RoundLeaves
): AsyncGenerator<Uint8Array, void> {
  let unacknowledged = 0
  for (let pending = upcoming(inbox); ; pending = upcoming(inbox)) {
    if (unacknowledged > 0 && (unacknowledged >= MAX_ACK_BATCH || !(await readyNow(pending)))) {
      yield encodeAck(unacknowledged)
      unacknowledged = 0
    }
    const msg = await pending
    if (msg === undefined) throw ended('its DONE')
    if (msg.type === 'done') break
    if (msg.type === 'ack') {
      credit.acked(msg.frames)
      continue
    }
    if (msg.type !== 'frame') throw decodeError(`expected sync entries, got ${msg.type}`)
    await merge(ctx, msg, result, received, own)
    unacknowledged++
    // Buffered frames arrive through microtasks alone: yield, or timers and I/O wait for the whole round.
    await breathe()
  }
  if (unacknowledged > 0) yield encodeAck(unacknowledged)
}

/** This side's entries and counter slots in the masked buckets, as UPDATES frames within `credit`, then DONE. */
export async function* sendBuckets(
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

/** Merges one frame of entries into the replica, a slice at a time (each applied to `own` as well). */
async function merge(
  ctx: SessionContext,
  msg: EntryFrame,
  result: SessionResult,
  received?: Digest,
  own?: RoundLeaves
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
  const count = msg.batch.length
  for (let from = 0; from < count; ) {
    // A turn before each slice, the first too: the frame was decoded in the turn it arrived in.
    await breathe()
    const last = Math.min(count, from + MERGE_SLICE)
    let to = from
    const before = result.rejected
    const slice = (): void => {
      // One clock reading per slice: merging one takes a few milliseconds at most.
      const now = ctx.now()
      const started = performance.now()
      do {
        const step = Math.min(last, to + MERGE_STEP)
        replica.mergeBatch(msg.batch, to, step, now, received, reject)
        to = step
      } while (to < last && performance.now() - started < SLICE_MS)
    }
    if (own === undefined) slice()
    else own.apply(slice)
    result.received += to - from - (result.rejected - before)
    from = to
  }
  const counters = (): void => {
    for (const counter of msg.counters) {
      received?.toggle(hashCounter(counter, hash))
      replica.mergeCounter(counter)
      result.received++
    }
  }
  if (own === undefined || msg.counters.length === 0) counters()
  else own.apply(counters)
  ctx.onProgress?.(result)
}

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
