/**
 * A collection's index from key hashes to slots: open addressing with linear
 * probing over one Int32Array, at most 70 % not empty. A position holds slot + 1
 * in its low SLOT_BITS and the top TAG_BITS of the key's hash above them, so a
 * probe passes over other keys without reading their records (a cache miss each,
 * in a large collection). Keys themselves are compared by the caller, who holds
 * the records: {@link KeyIndex.find} asks it about each slot whose tag matches.
 *
 * A large index grows in steps, as Redis rehashes its dictionaries: once a table of
 * {@link STEPWISE_FROM} positions or more is {@link GROW_AT} full, each insertion also owes a
 * few slots, moved in slot order a batch at a time, to the larger table that replaces it when
 * the last slot is in. Grown in one go, a large index held the event loop while every key was
 * hashed again (docs/benchmarks.md, "The event loop during a join"); a smaller one still is.
 */
import type { Key } from './key.js'

/** Who holds the keys of the slots indexed (a collection's records). */
export interface KeyHolder {
  /** Whether `slot` holds `key`. */
  holds(slot: number, key: Key): boolean
}

/** The slots indexed, as a growing index reads them: which are in use, and each one's hash. */
export interface IndexedSlots {
  /** One past the highest slot in use. */
  readonly slotLimit: number
  /** Whether `slot` holds an entry (indexed). */
  has(slot: number): boolean
  /** The hash `slot`'s key is indexed under. */
  hashOf(slot: number): number
}

const MIN_INDEX = 16
const SLOT_BITS = 26
const SLOT_MASK = 2 ** SLOT_BITS - 1
const TAG_BITS = 31 - SLOT_BITS
/** Slots an index can name: slot + 1 must fit SLOT_BITS. */
export const MAX_SLOTS = SLOT_MASK - 1
/** A position of a removed key: probes go on past it; an insertion may reuse it. */
const REMOVED = -1
/** How full (keys and removed positions) a table starts growing, in tenths: the growth then has until 7 to end. */
const GROW_AT = 5
/**
 * Positions of the smallest table that grows in steps: a smaller one is rebuilt in one go in
 * a millisecond or two, and holds no second table meanwhile (a growth that inserts stop halfway
 * keeps both).
 */
export const STEPWISE_FROM = 1 << 17
/**
 * Slots a growth moves at a time, once that many are owed: all their hashes first, then all their
 * positions, so that the table's cache misses overlap (moved a few at each insertion, a growth
 * cost more CPU than a rebuild in one go).
 */
const MOVE_BATCH = 256

/**
 * A larger table filled beside the one in use: it holds every slot below `cursor` that the
 * table in use holds. Slots claimed meanwhile lie beyond the cursor, which reaches them too.
 */
interface Growth {
  readonly table: Int32Array
  /** Removed positions in `table`. */
  removed: number
  /** Slots below it are in `table`. */
  cursor: number
  /**
   * Slots owed per insertion: enough to reach the slot limit before the table in use is full,
   * the slots claimed meanwhile (one an insertion at most) included.
   */
  readonly step: number
  /** Slots owed and not yet moved. */
  owed: number
  /** The slots of a batch being moved that hold an entry, and their hashes. */
  readonly batch: Int32Array
  readonly hashes: Uint32Array
}

/** The index position value of `slot`, whose key hashes to `hash`. */
function position(slot: number, hash: number): number {
  return ((hash >>> (32 - TAG_BITS)) << SLOT_BITS) | (slot + 1)
}

/** The size of a table for `live` keys: a power of two, at most half full. */
function sizeFor(live: number): number {
  let size = MIN_INDEX
  while (size < live * 2) size *= 2
  return size
}

/** Puts `slot` (hash `hash`) in a free or removed position of `table`; whether that position was a removed one. */
function place(table: Int32Array, slot: number, hash: number): boolean {
  const mask = table.length - 1
  let i = hash & mask
  while (table[i] > 0) i = (i + 1) & mask
  const reused = table[i] === REMOVED
  table[i] = position(slot, hash)
  return reused
}

/** Marks `slot`'s position (hash `hash`) in `table` removed: a slot not there is a broken index, thrown, not searched for ever. */
function unplace(table: Int32Array, slot: number, hash: number): void {
  const mask = table.length - 1
  const p = position(slot, hash)
  let i = hash & mask
  for (let probes = 0; table[i] !== p; probes++) {
    if (probes > mask) throw new Error(`key index: slot ${slot} is not indexed under its hash`)
    i = (i + 1) & mask
  }
  table[i] = REMOVED
}

export class KeyIndex {
  private table: Int32Array = new Int32Array(MIN_INDEX)
  private removed = 0
  private count = 0
  private growth: Growth | undefined

  /** `stepwiseFrom`: the positions of the smallest table grown in steps ({@link STEPWISE_FROM}; tests set less). */
  constructor(private readonly stepwiseFrom = STEPWISE_FROM) {}

  /** Keys indexed. */
  get size(): number {
    return this.count
  }

  /** Whether a larger table is being filled ({@link step}), for tests. */
  get growing(): boolean {
    return this.growth !== undefined
  }

  /**
   * The slot of `key`, whose hash is `hash`, or -1: asks `keys` about each slot indexed under
   * a hash with `hash`'s tag, in probe order (an object, not a closure: none made per lookup).
   */
  find(hash: number, key: Key, keys: KeyHolder): number {
    const table = this.table
    const mask = table.length - 1
    const tag = position(-1, hash)
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const p = table[i]
      if (p === 0) return -1
      if (p > 0 && (p & ~SLOT_MASK) === tag && keys.holds((p & SLOT_MASK) - 1, key)) return (p & SLOT_MASK) - 1
    }
  }

  /** Whether one more key fits without {@link rebuild}. */
  hasRoom(): boolean {
    return (this.count + this.removed + 1) * 10 <= this.table.length * 7
  }

  /**
   * Before an insertion: starts a larger table once this one is {@link GROW_AT} full (and as large
   * as {@link STEPWISE_FROM}: a smaller one is rebuilt when full), or moves the next few of `slots`
   * into the one started, and puts it in use once they all are.
   */
  step(slots: IndexedSlots): void {
    const filled = this.count + this.removed + 1
    if (this.growth === undefined) {
      if (this.table.length < this.stepwiseFrom || filled * 10 <= this.table.length * GROW_AT) return
      // Sized for the keys it may hold when this table is full: as a rebuild then would be.
      const room = Math.max(Math.floor((this.table.length * 7) / 10) - filled, 1)
      this.growth = {
        table: new Int32Array(sizeFor(this.count + room + 1)),
        removed: 0,
        cursor: 0,
        step: Math.ceil(slots.slotLimit / room) + 2,
        owed: 0,
        batch: new Int32Array(MOVE_BATCH),
        hashes: new Uint32Array(MOVE_BATCH)
      }
    }
    const g = this.growth
    g.owed += g.step
    const end = slots.slotLimit
    if (g.owed < MOVE_BATCH && g.cursor + g.owed < end) return
    const stop = Math.min(g.cursor + g.owed, end)
    g.owed = 0
    while (g.cursor < stop) {
      const to = Math.min(stop, g.cursor + MOVE_BATCH)
      let n = 0
      for (let slot = g.cursor; slot < to; slot++) {
        if (!slots.has(slot)) continue
        g.batch[n] = slot
        g.hashes[n++] = slots.hashOf(slot)
      }
      for (let i = 0; i < n; i++) if (place(g.table, g.batch[i], g.hashes[i])) g.removed--
      g.cursor = to
    }
    if (stop < end) return
    this.table = g.table
    this.removed = g.removed
    this.growth = undefined
  }

  /** Whether a slot's insertion or removal goes to the growing table too (one the cursor has passed). */
  private growsWith(slot: number): Growth | undefined {
    const g = this.growth
    return g !== undefined && slot < g.cursor ? g : undefined
  }

  /** Indexes `slot` under `hash` (a key not yet indexed). */
  insert(slot: number, hash: number): void {
    if (place(this.table, slot, hash)) this.removed--
    this.count++
    const g = this.growsWith(slot)
    if (g !== undefined && place(g.table, slot, hash)) g.removed--
  }

  /** Drops `slot`, indexed under `hash`. */
  remove(slot: number, hash: number): void {
    unplace(this.table, slot, hash)
    this.removed++
    this.count--
    const g = this.growsWith(slot)
    if (g === undefined) return
    unplace(g.table, slot, hash)
    g.removed++
  }

  /**
   * A fresh table for `live` keys, at most half full, without removed positions, from every
   * slot's hash (`hashes[slot]`, for the slots `has` says are in use below `slots`), in one go.
   */
  rebuild(live: number, slots: number, hashes: Uint32Array, has: (slot: number) => boolean): void {
    const table = new Int32Array(sizeFor(live))
    for (let slot = 0; slot < slots; slot++) if (has(slot)) place(table, slot, hashes[slot])
    this.table = table
    this.removed = 0
    this.growth = undefined
  }
}
