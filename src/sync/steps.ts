/**
 * The steps of a sync round as plain functions of (message, context) → reply, without I/O:
 * each reads one received message against this side's replica and membership, records what it
 * found in the round's result, and returns the frame to send back. session.ts strings them
 * together with the transfer of entries (transfer.ts); tests call them one by one.
 *
 *   initiator                    responder
 *   openRound → DIGEST     ──►   answerDigest → LEAVES
 *   answerLeaves → REQUEST ──►   takeRequest
 *   (entries both ways)          bucketsToReturn after the initiator's entries
 */
import { encodeDigest, encodeLeaves, encodeRequest, type MemberRow } from '../codec/sync.js'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import { BUCKETS, type Digest, LEAVES_PER_GROUP } from '../store/digest.js'
import type { Message, SessionContext, SessionResult } from './context.js'
import { deferredRequest, defers } from './deferral.js'
import type { RoundLeaves } from './round-leaves.js'

/** The initiator's first frame, a DIGEST of its group hashes (kept as `groups`: answerLeaves compares them). */
export function openRound(ctx: SessionContext, result: SessionResult): { reply: Uint8Array; groups: Uint32Array } {
  result.startedAt = ctx.now()
  ctx.replica.ageDigest(result.startedAt)
  const groups = ctx.replica.digest.groups()
  return { reply: encodeDigest(ctx.swarm, ctx.membership.row(), groups), groups }
}

/**
 * The responder's answer to a DIGEST: the LEAVES of every group that differs. None differ: the
 * replicas are identical, and the round is complete once this is sent.
 */
export function answerDigest(ctx: SessionContext, digest: Message<'digest'>, result: SessionResult): Uint8Array {
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
  if (differing.length === 0) {
    result.inSync = true
    result.complete = true
  }
  return encodeLeaves(ctx.membership.row(), differing, leaves)
}

/**
 * Whether a DIGEST that waited for this side's catch-up turn, through which this side caught up,
 * shows a group that differs: its LEAVES would then cover every group written during the wait (up
 * to 32 KB), where a fresh DIGEST shows only what still differs. The responder asks for one (STALE).
 */
export function outdated(ctx: SessionContext, digest: Message<'digest'>): boolean {
  const own = ctx.replica.digest.groups()
  return own.some((word, i) => word !== digest.groups[i])
}

/**
 * The initiator's answer to LEAVES: the REQUEST of every bucket that differs (none, when it
 * defers: under writes as deferral.ts says, or when the LEAVES are `stale` and a bucket differs), and that mask,
 * whose buckets it then sends. Undefined when no group differed: the replicas are identical and
 * the round is complete.
 */
export function answerLeaves(
  ctx: SessionContext,
  sent: Uint32Array,
  leaves: Message<'leaves'>,
  result: SessionResult,
  stale = false
): { reply: Uint8Array; mask: Uint8Array } | undefined {
  checkMember(ctx, leaves.row, result)
  if (leaves.groups.length === 0) {
    result.inSync = true
    result.complete = true
    return undefined
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
  // Stale LEAVES that still show no bucket differing (nothing was written meanwhile) are as good as fresh.
  if ((stale && result.buckets > 0) || defers(result.buckets, ctx.deferAbove, sent, ctx.replica.digest.groups())) {
    mask.fill(0)
    result.deferred = true
  }
  return { reply: encodeRequest(mask), mask }
}

/** The responder takes a REQUEST: the buckets the initiator will send, all of them, and whether it deferred. */
export function takeRequest(request: Message<'request'>, result: SessionResult): Uint8Array {
  result.buckets = request.mask.reduce((n, b) => n + b, 0)
  result.deferred = deferredRequest(result.buckets)
  return request.mask
}

/**
 * The buckets the responder sends back, once it merged the initiator's entries (whose digest is
 * `received`). A requested bucket holds nothing the initiator lacks when this side held nothing
 * there at the round's start, or when it hashes as the initiator's did: as of the round's start
 * with the round's merges (`own`, round-leaves.ts: whatever else reached it meanwhile), or now
 * (`live`: what reached it meanwhile the initiator sent too).
 */
export function bucketsToReturn(
  requested: Uint8Array,
  received: Digest,
  own: RoundLeaves,
  live: Uint32Array
): Uint8Array {
  const theirs = received.leaves
  const differs = (mine: Uint32Array, b: number): boolean =>
    mine[b * 2] !== theirs[b * 2] || mine[b * 2 + 1] !== theirs[b * 2 + 1]
  return requested.map((wanted, b) =>
    wanted !== 0 && own.held[b] !== 0 && differs(own.leaves, b) && differs(live, b) ? 1 : 0
  )
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
