import type { Stamp } from '../clock/index.js'
import type { Json } from '../value/json.js'

/**
 * One register of a collection, as stored and as replicated: the last write of
 * a key, stamped with its HLC timestamp and writer. A removal is a tombstone
 * (`deleted: true`, `value: null`) so that it beats older writes that arrive late.
 */
export interface EntryUpdate extends Stamp {
  readonly collection: string
  readonly key: string
  /** Absolute expiry deadline in ms since the epoch; 0 means never. */
  readonly expiresAt: number
  readonly deleted: boolean
  /** The value (deep-frozen); null for a tombstone. */
  readonly value: Json
  /**
   * The MessagePack bytes of `value`, when known: entries read from the store or
   * the wire carry them, and they are stored and sent on as they are. Absent for
   * a tombstone; a writer may leave them out (they are then encoded once).
   */
  readonly encoded?: Uint8Array
}

/**
 * A counter's window: opened by the write stamped `wall`/`logical`/`node`, ending at
 * `expiresAt` (0: never). Totals count in one window; a later window replaces them all.
 */
export interface CounterWindow extends Stamp {
  readonly expiresAt: number
}

/** The window every counter starts in: never ends, and any opened window replaces it. */
export const FIRST_WINDOW: CounterWindow = { wall: 0, logical: 0, node: '', expiresAt: 0 }

/**
 * The state of one counter slot: the running totals of increments and decrements
 * made by one peer incarnation in the counter's window. Totals only grow, so merging
 * takes the larger of each and never loses a concurrent increment; a reset raises
 * the slot's base to what it observed, and only what lies above the base counts.
 */
export interface CounterUpdate {
  readonly counter: string
  /** Writer of these totals: `<peer id>/<incarnation>`. */
  readonly slot: string
  readonly inc: number
  readonly dec: number
  /** The part of `inc` that a reset observed, and no longer counts (absent: 0). */
  readonly baseInc?: number
  /** The part of `dec` that a reset observed (absent: 0). */
  readonly baseDec?: number
  /** The window the totals count in (absent: {@link FIRST_WINDOW}). */
  readonly window?: CounterWindow
}

import type { ChangeOrigin } from '../contract.js'

export type { ChangeEvent, ChangeOrigin } from '../contract.js'

/** Where a merged update comes from: local and remote ones are announced; restored ones (from disk) are not. */
export type MergeOrigin = ChangeOrigin | 'restore'

/** Counts of what a replica holds (kept up to date on every change: reading them is O(1)). */
export interface ReplicaSize {
  /** Entries holding a value (an expired one counts until it is collected). */
  entries: number
  /** Tombstones not yet collected. */
  dead: number
  counters: number
  collections: number
}
