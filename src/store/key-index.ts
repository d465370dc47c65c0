/**
 * A collection's index from key hashes to slots: open addressing with linear
 * probing over one Int32Array, at most 70 % not empty. A position holds slot + 1
 * in its low SLOT_BITS and the top TAG_BITS of the key's hash above them, so a
 * probe passes over other keys without reading their records (a cache miss each,
 * in a large collection). Keys themselves are compared by the caller, who holds
 * the records: {@link KeyIndex.find} asks it about each slot whose tag matches.
 */
import type { Key } from './key.js'

/** Who holds the keys of the slots indexed (a collection's records). */
export interface KeyHolder {
  /** Whether `slot` holds `key`. */
  holds(slot: number, key: Key): boolean
}

const MIN_INDEX = 16
const SLOT_BITS = 26
const SLOT_MASK = 2 ** SLOT_BITS - 1
const TAG_BITS = 31 - SLOT_BITS
/** Slots an index can name: slot + 1 must fit SLOT_BITS. */
export const MAX_SLOTS = SLOT_MASK - 1
/** A position of a removed key: probes go on past it; an insertion may reuse it. */
const REMOVED = -1

/** The index position value of `slot`, whose key hashes to `hash`. */
function position(slot: number, hash: number): number {
  return ((hash >>> (32 - TAG_BITS)) << SLOT_BITS) | (slot + 1)
}

export class KeyIndex {
  private table = new Int32Array(MIN_INDEX)
  private removed = 0
  private count = 0

  /** Keys indexed. */
  get size(): number {
    return this.count
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

  /** Indexes `slot` under `hash` (a key not yet indexed). */
  insert(slot: number, hash: number): void {
    const mask = this.table.length - 1
    let i = hash & mask
    while (this.table[i] > 0) i = (i + 1) & mask
    if (this.table[i] === REMOVED) this.removed--
    this.table[i] = position(slot, hash)
    this.count++
  }

  /** Drops `slot`, indexed under `hash`. */
  remove(slot: number, hash: number): void {
    const mask = this.table.length - 1
    const p = position(slot, hash)
    let i = hash & mask
    while (this.table[i] !== p) i = (i + 1) & mask
    this.table[i] = REMOVED
    this.removed++
    this.count--
  }

  /**
   * A fresh table for `live` keys, at most half full, without removed positions, from every
   * slot's hash (`hashes[slot]`, for the slots `has` says are in use below `slots`).
   */
  rebuild(live: number, slots: number, hashes: Uint32Array, has: (slot: number) => boolean): void {
    let size = MIN_INDEX
    while (size < live * 2) size *= 2
    const table = new Int32Array(size)
    const mask = size - 1
    for (let slot = 0; slot < slots; slot++) {
      if (!has(slot)) continue
      let i = hashes[slot] & mask
      while (table[i] !== 0) i = (i + 1) & mask
      table[i] = position(slot, hashes[slot])
    }
    this.table = table
    this.removed = 0
  }
}
