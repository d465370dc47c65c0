/**
 * The values a space's collections read or wrote last, kept decoded so that hot keys read at Map
 * speed while every value is stored as bytes: a direct-mapped cache addressed by the key's
 * hash, each line holding a key, its slot and its live value. A hit touches the line and
 * the key's string only, not the key index, the record or the stamps: the lookups a miss
 * makes cost a cache miss of the CPU each in a large collection (docs/benchmarks.md).
 *
 * A line is only ever what the slot holds now: the space clears or replaces the line
 * of a key each time that key's slot changes (space.ts), and never caches a removed
 * entry. Sized to the slots, up to a power of two given (MAX_CACHE by default), and made anew,
 * empty, as they grow.
 */
import type { Json } from '../value/json.js'

/** Values kept decoded, per space, at most by default: a collection of up to this many keys reads every hot key decoded. */
export const MAX_CACHE = 16_384

export class ValueCache {
  /**
   * Line i is lines[3i, 3i + 3): its key (undefined: empty), slot and value, side by side so
   * that a lookup reads one place in memory, not three arrays.
   */
  private lines: unknown[] = [undefined, 0, undefined]
  private mask = 0

  /** `max`: lines at most, a power of two. */
  constructor(private readonly max = MAX_CACHE) {}

  /** The line that holds `key` (whose hashKey is `hash`), or -1. */
  find(key: string, hash: number): number {
    const at = (hash & this.mask) * 3
    return this.lines[at] === key ? at : -1
  }

  /** The line that holds the value of `slot`, whose key hashes to `hash`, or -1. */
  findSlot(slot: number, hash: number): number {
    const at = (hash & this.mask) * 3
    return this.lines[at] !== undefined && this.lines[at + 1] === slot ? at : -1
  }

  slotAt(line: number): number {
    return this.lines[line + 1] as number
  }

  valueAt(line: number): Json {
    return this.lines[line + 2] as Json
  }

  /** Keeps `value`, the live value of `key` (hash `hash`) in `slot`, in a collection of `capacity` slots. */
  set(key: string, hash: number, slot: number, value: Json, capacity: number): void {
    if (this.mask < this.max - 1 && this.mask < capacity - 1) {
      const size = Math.min(this.max, capacity)
      this.lines = new Array(size * 3).fill(undefined)
      this.mask = size - 1
    }
    const at = (hash & this.mask) * 3
    this.lines[at] = key
    this.lines[at + 1] = slot
    this.lines[at + 2] = value
  }

  /** Forgets the value of `slot`, whose key hashes to `hash` (its slot changed or was freed). */
  delete(slot: number, hash: number): void {
    const at = this.findSlot(slot, hash)
    if (at >= 0) {
      this.lines[at] = undefined
      this.lines[at + 2] = undefined
    }
  }
}
