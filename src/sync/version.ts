/**
 * The sync protocol this release speaks, and the frame sizes and window a round of it uses.
 * Before 1.0 there is one sync protocol version (docs/protocol.md, Compatibility): a peer
 * offers and accepts this id alone.
 */
import type { DecodeLimits } from '../codec/index.js'

/**
 * The sync protocol: rounds with acknowledged frames (flow control), compressed frames, and a
 * responder that asks for a fresh DIGEST once it caught up while the first waited (STALE).
 */
export const SYNC_PROTOCOL = '/sharedmem/sync/1.3.0'

/**
 * A round sends frames of this many times the batch limits (8,192 entries and 2 MiB by default,
 * within the swarm's message limits) under half the window: a quarter of the frames to inflate,
 * acknowledge and grant window for, which shortens a late join (docs/benchmarks.md).
 */
const FRAME_SCALE = 4

/** What a round's frames may hold and how many may be in flight. */
export interface RoundLimits {
  /** Entries per frame. */
  chunkEntries: number
  /** Soft byte limit of one frame's values. */
  chunkBytes: number
  /** Frames a sender may have unacknowledged. */
  window: number
  /** Frames a receiver reads ahead of its merge; a sender past it is cut off. */
  readAhead: number
}

/** The limits of a round, from the peer's batch limits, its window and the swarm's decode limits. */
export function roundLimits(init: {
  chunkEntries: number
  chunkBytes: number
  window: number
  limits: DecodeLimits
}): RoundLimits {
  return {
    // Within what the swarm's peers accept (peers share limits): a frame may pass its byte limit by one value.
    chunkEntries: Math.min(init.chunkEntries * FRAME_SCALE, init.limits.maxMessageEntries),
    chunkBytes: Math.min(init.chunkBytes * FRAME_SCALE, Math.floor(init.limits.maxMessageBytes / 2)),
    // Half the frames in flight (a receiver acknowledges up to 4 at once, so a window of 8 keeps
    // frames coming): at most 16 MiB queued when the values turn out not to compress.
    window: Math.ceil(init.window / 2),
    // Twice the configured window, and some: acknowledgements in flight still let frames come.
    readAhead: 2 * init.window + 8
  }
}
