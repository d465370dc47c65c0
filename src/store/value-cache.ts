/**
 * The values a collection read or wrote last, kept decoded so that hot keys read
 * at Map speed while every value is stored as bytes: a direct-mapped cache, slot &
 * mask → that slot's value (if `slots` says it is there). Sized to the slots, up to
 * MAX_CACHE, and made anew, empty, as they grow.
 */
import type { Json } from '../value/json.js'

/** Values kept decoded, per collection, at most: a collection of up to this many keys reads every hot key decoded. */
const MAX_CACHE = 16_384

export class ValueCache {
  private slots: Int32Array | undefined
  private values: Json[] = []
  private mask = 0

  /** The value of `slot` if kept, else undefined (a kept value is never undefined). */
  get(slot: number): Json | undefined {
    const at = slot & this.mask
    return this.slots !== undefined && this.slots[at] === slot ? this.values[at] : undefined
  }

  /** Keeps the value of `slot`, in a collection of `capacity` slots. */
  set(slot: number, value: Json, capacity: number): void {
    if (this.slots === undefined || (this.mask < MAX_CACHE - 1 && this.mask < capacity - 1)) {
      const size = Math.min(MAX_CACHE, capacity)
      this.slots = new Int32Array(size).fill(-1)
      this.values = new Array(size).fill(null)
      this.mask = size - 1
    }
    this.slots[slot & this.mask] = slot
    this.values[slot & this.mask] = value
  }

  delete(slot: number): void {
    if (this.slots !== undefined && this.slots[slot & this.mask] === slot) this.slots[slot & this.mask] = -1
  }
}
