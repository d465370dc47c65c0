/**
 * The stored entries of a replica, column by column: a slot per entry in typed
 * arrays (stamp, writer, expiry, deletion) and one array of values. A stored entry
 * costs 37 bytes besides its key and value, and no object of its own: an object
 * per entry took 104 bytes, and the garbage collector copied every one of them out
 * of the young generation after its write. The typed arrays live outside the JS
 * heap, where the collector never looks.
 */
import type { EntryUpdate } from './types.js'
import type { Json } from './validate.js'

const INITIAL_SLOTS = 1024

/** Whether an entry is visible at `now`: not removed, and not expired. */
export function isLive(deleted: boolean, expiresAt: number, now: number): boolean {
  return !deleted && (expiresAt === 0 || expiresAt > now)
}

/** Whether an entry has been dead since before `horizon`: then neither kept nor accepted. */
export function isCollectable(deleted: boolean, wall: number, expiresAt: number, horizon: number): boolean {
  return (deleted && wall < horizon) || (expiresAt !== 0 && expiresAt < horizon)
}

export class EntryTable {
  private readonly values: Json[] = []
  private wall = new Float64Array(INITIAL_SLOTS)
  // Float64: a logical counter or an expiry may be any safe integer.
  private logical = new Float64Array(INITIAL_SLOTS)
  private expiresAt = new Float64Array(INITIAL_SLOTS)
  private writer = new Uint32Array(INITIAL_SLOTS)
  private deleted = new Uint8Array(INITIAL_SLOTS)
  /** Peer ids of writers by number; a few dozen bytes per peer id ever seen, never dropped. */
  private readonly nodes: string[] = []
  private readonly nodeNumbers = new Map<string, number>()
  private readonly free: number[] = []
  private used = 0

  /** Stores an entry in a free slot and returns the slot. */
  add(update: EntryUpdate): number {
    const slot = this.free.pop() ?? this.used++
    if (slot >= this.wall.length) this.grow()
    this.set(slot, update)
    return slot
  }

  /** Stores a newer version of the entry in `slot`. */
  set(slot: number, update: EntryUpdate): void {
    this.values[slot] = update.value
    this.wall[slot] = update.wall
    this.logical[slot] = update.logical
    this.expiresAt[slot] = update.expiresAt
    this.deleted[slot] = update.deleted ? 1 : 0
    this.writer[slot] = this.nodeNumber(update.node)
  }

  /** Frees a slot (its value can be collected). */
  release(slot: number): void {
    this.values[slot] = null
    this.free.push(slot)
  }

  /** The entry in `slot`, as an update object. */
  read(slot: number, collection: string, key: string): EntryUpdate {
    return {
      collection,
      key,
      wall: this.wall[slot],
      logical: this.logical[slot],
      node: this.nodes[this.writer[slot]],
      expiresAt: this.expiresAt[slot],
      deleted: this.deleted[slot] === 1,
      value: this.values[slot]
    }
  }

  value(slot: number): Json {
    return this.values[slot]
  }

  wallOf(slot: number): number {
    return this.wall[slot]
  }

  isLive(slot: number, now: number): boolean {
    return isLive(this.deleted[slot] === 1, this.expiresAt[slot], now)
  }

  isCollectable(slot: number, horizon: number): boolean {
    return isCollectable(this.deleted[slot] === 1, this.wall[slot], this.expiresAt[slot], horizon)
  }

  private nodeNumber(node: string): number {
    let n = this.nodeNumbers.get(node)
    if (n === undefined) {
      n = this.nodes.push(node) - 1
      this.nodeNumbers.set(node, n)
    }
    return n
  }

  private grow(): void {
    const slots = this.wall.length * 2
    this.wall = resized(this.wall, new Float64Array(slots))
    this.logical = resized(this.logical, new Float64Array(slots))
    this.expiresAt = resized(this.expiresAt, new Float64Array(slots))
    this.writer = resized(this.writer, new Uint32Array(slots))
    this.deleted = resized(this.deleted, new Uint8Array(slots))
  }
}

function resized<T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T {
  to.set(from)
  return to
}
