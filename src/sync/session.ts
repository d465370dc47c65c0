/**
 * The anti-entropy exchange, without I/O. Each side is an async generator of outgoing frames
 * that reads decoded incoming messages from `inbox`; the stream adapter (stream.ts) connects
 * it to a libp2p stream, and tests connect the two sides to each other directly. Each side
 * strings together the protocol steps (steps.ts) and the transfer of entries (transfer.ts).
 *
 *   initiator                          responder
 *   DIGEST(group hashes)        ──►
 *                               ◄──    STALE, when it caught up while the DIGEST waited for its turn
 *   DIGEST(fresh group hashes)  ──►    (then)
 *                               ◄──    LEAVES(leaf hashes of differing groups)  — none: in sync, done
 *   REQUEST(differing buckets)  ──►
 *   UPDATES* (its entries there) ──►   merged as they arrive, acknowledged (ACK)
 *   DONE                        ──►
 *                               ◄──    UPDATES* (what the initiator lacks), DONE
 *
 * The initiator sends everything it holds in the requested buckets, so the responder can hash
 * what it received per bucket: a bucket whose hash then equals its own (as of the round's start,
 * with the round's merges: round-leaves.ts) holds nothing the initiator lacks, and is not sent back.
 */
import { encodeStale } from '../codec/sync.js'
import { Digest } from '../store/digest.js'
import { expect, type Inbox, next, type SessionContext, type SessionResult } from './context.js'
import { RoundLeaves } from './round-leaves.js'
import { answerDigest, answerLeaves, bucketsToReturn, openRound, outdated, takeRequest } from './steps.js'
import { Credit, receiveAll, sendBuckets } from './transfer.js'

export { newResult, type SessionContext, type SessionResult } from './context.js'

/** The side that opened the stream. */
export async function* initiate(ctx: SessionContext, inbox: Inbox, result: SessionResult): AsyncGenerator<Uint8Array> {
  let opened = openRound(ctx, result)
  yield opened.reply
  let reply = await next(inbox)
  if (reply?.type === 'stale') {
    // The other side caught up while this DIGEST waited for its turn: a fresh one (once; a second STALE is an error).
    opened = openRound(ctx, result)
    yield opened.reply
    reply = await next(inbox)
  }
  const leaves = expect(reply, 'leaves')
  // The request compares this side's leaves as they are after the wait (entries may have come in).
  // If this side caught up from another peer meanwhile, the other side's leaves are as old as the
  // wait: every bucket written since would differ and be sent whole both ways (docs/benchmarks.md,
  // a join under writes). The round defers instead, and the caller opens a fresh one.
  const stale = (await ctx.takeTurn?.()) === true
  const request = answerLeaves(ctx, opened.groups, leaves, result, stale)
  if (request === undefined) return
  yield request.reply
  const credit = new Credit(inbox, ctx.window)
  yield* sendBuckets(ctx, request.mask, result, credit)
  yield* receiveAll(ctx, inbox, result, credit)
  result.complete = true
}

/** The side that accepted the stream. */
export async function* respond(ctx: SessionContext, inbox: Inbox, result: SessionResult): AsyncGenerator<Uint8Array> {
  let digest = expect(await next(inbox), 'digest')
  if ((await ctx.takeTurn?.()) === true && outdated(ctx, digest)) {
    yield encodeStale()
    digest = expect(await next(inbox), 'digest')
  }
  const leaves = answerDigest(ctx, digest, result)
  // The round hands over this side's state as of its answer: what reaches it later is left out of the return.
  const own = result.inSync ? undefined : new RoundLeaves(ctx.replica.digest.leaves)
  yield ctx.compressLeaves === undefined ? leaves : ctx.compressLeaves(leaves)
  if (own === undefined) return
  const request = expect(await next(inbox), 'request')
  const requested = takeRequest(request, result)
  const received = new Digest()
  const credit = new Credit(inbox, ctx.window)
  yield* receiveAll(ctx, inbox, result, credit, received, own)
  yield* sendBuckets(ctx, bucketsToReturn(requested, received, own, ctx.replica.digest.leaves), result, credit)
  result.complete = true
}
