/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
 *
 * A timestamp is a physical part (wall-clock ms) and a logical counter. It never
 * goes backwards, even when the wall clock does, and it stays close to real time,
 * so last-writer-wins picks the write a person would call "the latest". All
 * functions here are pure: the current time is an argument.
 */

/** An immutable HLC reading. */
export interface Timestamp {
  /** Physical part, in ms since the epoch (the largest wall time seen). */
  readonly wall: number
  /** Logical part: orders events that share a physical part. */
  readonly logical: number
}

/** A timestamp with the id of the peer that made it: a total order across the swarm. */
export interface Stamp extends Timestamp {
  readonly node: string
}

export const ZERO: Timestamp = Object.freeze({ wall: 0, logical: 0 })

/** The timestamp for a local event (send or write), given the last one and the wall clock. */
export function tick(last: Timestamp, now: number): Timestamp {
  if (now > last.wall) return { wall: now, logical: 0 }
  return { wall: last.wall, logical: last.logical + 1 }
}

/** The timestamp after receiving `remote`, given the last local one and the wall clock. */
export function receive(last: Timestamp, remote: Timestamp, now: number): Timestamp {
  const wall = Math.max(last.wall, remote.wall, now)
  if (wall === last.wall && wall === remote.wall) {
    return { wall, logical: Math.max(last.logical, remote.logical) + 1 }
  }
  if (wall === last.wall) return { wall, logical: last.logical + 1 }
  if (wall === remote.wall) return { wall, logical: remote.logical + 1 }
  return { wall, logical: 0 }
}

/**
 * The clock after folding in `stored`, a timestamp read back from disk. A stamp more than
 * `maxLead` ms ahead of `now` was made by a clock that was wrong (or is wrong now): folding
 * it in would have every later write stamped that far ahead, which the swarm refuses, so it
 * leaves the clock as it was. Any other stamp folds in as a received one does.
 */
export function restore(last: Timestamp, stored: Timestamp, now: number, maxLead: number): Timestamp {
  if (stored.wall > now + maxLead) return last
  return receive(last, stored, now)
}

/** Orders timestamps: negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.wall - b.wall || a.logical - b.logical
}

/**
 * Total order on stamps: by timestamp, then by peer id (plain string order), so
 * every replica picks the same winner between concurrent writes.
 */
export function compareStamps(a: Stamp, b: Stamp): number {
  return compareStampParts(a.wall, a.logical, a.node, b.wall, b.logical, b.node)
}

/** {@link compareStamps} of two stamps given by their parts (a stored one lies in columns, not in an object). */
export function compareStampParts(
  wallA: number,
  logicalA: number,
  nodeA: string,
  wallB: number,
  logicalB: number,
  nodeB: string
): number {
  return wallA - wallB || logicalA - logicalB || (nodeA < nodeB ? -1 : nodeA > nodeB ? 1 : 0)
}
