/**
 * When a sync round defers its transfer, in one place: which rounds may (periodic ones, not
 * more than MAX_DEFERRALS in a row), when an initiator does (many buckets differ while writes
 * arrive), how a responder recognises it, and what counts as a deferral in a row.
 *
 * Differences found while writes stream in are mostly writes still on their way by gossip, and
 * a transfer sends every entry of each differing bucket both ways: under sustained writes at
 * full rate every bucket differs, and periodic rounds would resend the whole replica over and
 * over (docs/benchmarks.md). A deferred round costs the digest exchange alone and repairs nothing.
 */
import type { SessionResult } from './context.js'

/**
 * A periodic round defers its transfer when more than this many of the 4,096 buckets differ while
 * writes reach the initiator's replica during the digest exchange. Rounds on a new connection, and
 * `syncNow()`, never defer.
 */
export const DEFER_BUCKETS = 256

/** Periodic rounds a peer defers in a row at most: the next one repairs whatever differs, so dropped gossip waits at most this many intervals more. */
export const MAX_DEFERRALS = 2

/** One peer's deferrals: how many in a row, and so whether its next periodic round may defer. */
export class Deferrals {
  /** Periodic rounds this peer deferred in a row (at most MAX_DEFERRALS). */
  private inARow = 0

  /** The `deferAbove` of a round this peer opens now: none for a round that must repair. */
  threshold(periodic: boolean): number | undefined {
    return periodic && this.inARow < MAX_DEFERRALS ? DEFER_BUCKETS : undefined
  }

  /** Counts a finished round: one this side deferred adds to the run, one that repaired ends it. */
  record(role: 'initiator' | 'responder', result: SessionResult): void {
    if (result.deferred) {
      if (role === 'initiator') this.inARow++
    } else if (result.complete) this.inARow = 0
  }
}

/**
 * Whether an initiator that found `buckets` differing defers, given its `threshold` and its
 * group hashes when it sent its digest (`sent`) and now (`current`): writes arrived in between.
 */
export function defers(
  buckets: number,
  threshold: number | undefined,
  sent: Uint32Array,
  current: Uint32Array
): boolean {
  return threshold !== undefined && buckets > threshold && changed(sent, current)
}

/**
 * Whether a responder's round was deferred, given the buckets the initiator requested after
 * groups differed: an empty request comes from an initiator that deferred (or whose own writes
 * since its digest made every differing bucket equal). Either way nothing was compared.
 */
export function deferredRequest(requested: number): boolean {
  return requested === 0
}

/** Whether two sets of group hashes differ anywhere. */
function changed(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return true
  return false
}
