/**
 * One collection of a replica: its keys, hashed into an open-addressing index,
 * and its entries column by column. A slot holds one entry: its key and value in
 * two arrays, and its stamp, writer, expiry and deletion flag in typed arrays
 * outside the JS heap. A stored entry therefore has no object of its own: an
 * object per entry took 104 bytes, and the garbage collector copied every one out
 * of the young generation after its write. The index replaces a `Map` from key to
 * slot: inserting a fresh key into a `Map` of a million cost about 500 ns, into the
 * index about 200 ns. A slot costs about 60 bytes besides its key and value.
 */
import { randomBytes } from 'node:crypto'
import type { EntryUpdate } from './types.js'
import type { Json } from './validate.js'

const MIN_SLOTS = 8
const MIN_INDEX = 16

/** A random seed per process, so that nobody can choose keys that all land on one index position. */
const SEED = randomBytes(4).readUInt32LE(0)

/** The 32-bit hash a key is indexed by. */
export function hashKey(key: string): number {
  let h = SEED
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Whether an entry is visible at `now`: not removed, and not expired. */
export function isLive(deleted: boolean, expiresAt: number, now: number): boolean {
  return !deleted && (expiresAt === 0 || expiresAt > now)
}

/** Whether an entry has been dead since before `horizon`: then neither kept nor accepted. */
export function isCollectable(deleted: boolean, wall: number, expiresAt: number, horizon: number): boolean {
  return (deleted && wall < horizon) || (expiresAt !== 0 && expiresAt < horizon)
}

/** Peer ids of writers by number, shared by a replica's collections; never shrinks (a few dozen bytes per writer ever seen). */
export class Writers {
  private readonly ids: string[] = []
  private readonly numbers = new Map<string, number>()

  numberOf(id: string): number {
    let n = this.numbers.get(id)
    if (n === undefined) {
      n = this.ids.push(id) - 1
      this.numbers.set(id, n)
    }
    return n
  }

  idOf(n: number): string {
    return this.ids[n]
  }
}

export class Collection {
  private readonly writers: Writers
  /** Index positions: 0 empty, -1 a removed key, otherwise slot + 1. At most half are not empty. */
  private index = new Int32Array(MIN_INDEX)
  private removedPositions = 0
  private readonly keys: Array<string | undefined> = []
  private readonly values: Json[] = []
  private hashes = new Uint32Array(MIN_SLOTS)
  private wall = new Float64Array(MIN_SLOTS)
  // Float64: a logical counter or an expiry may be any safe integer.
  private logical = new Float64Array(MIN_SLOTS)
  private expiresAt = new Float64Array(MIN_SLOTS)
  private writer = new Uint32Array(MIN_SLOTS)
  private deleted = new Uint8Array(MIN_SLOTS)
  private readonly free: number[] = []
  private used = 0
  private count = 0

  constructor(writers: Writers) {
    this.writers = writers
  }

  /** Entries stored (tombstones included). */
  get size(): number {
    return this.count
  }

  /** One past the highest slot in use: loop over slots below it, skipping those whose key is undefined. */
  get slotLimit(): number {
    return this.used
  }

  /** The slot of `key` (whose hash is `hash`, when the caller has it already), or -1. */
  find(key: string, hash = hashKey(key)): number {
    const mask = this.index.length - 1
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const p = this.index[i]
      if (p === 0) return -1
      if (p > 0 && this.hashes[p - 1] === hash && this.keys[p - 1] === key) return p - 1
    }
  }

  /** Stores the entry of a key not yet present (`find` returned -1); returns its slot. */
  add(key: string, hash: number, update: EntryUpdate): number {
    if ((this.count + this.removedPositions + 1) * 2 > this.index.length) this.rebuild(this.count + 1)
    const slot = this.free.pop() ?? this.used++
    if (slot >= this.wall.length) this.grow()
    this.keys[slot] = key
    this.hashes[slot] = hash
    this.set(slot, update)
    const mask = this.index.length - 1
    let i = hash & mask
    while (this.index[i] > 0) i = (i + 1) & mask
    if (this.index[i] === -1) this.removedPositions--
    this.index[i] = slot + 1
    this.count++
    return slot
  }

  /** Stores a newer version of the entry in `slot`. */
  set(slot: number, update: EntryUpdate): void {
    this.values[slot] = update.value
    this.wall[slot] = update.wall
    this.logical[slot] = update.logical
    this.expiresAt[slot] = update.expiresAt
    this.deleted[slot] = update.deleted ? 1 : 0
    this.writer[slot] = this.writers.numberOf(update.node)
  }

  /** Removes the entry in `slot`. */
  delete(slot: number): void {
    const mask = this.index.length - 1
    let i = this.hashes[slot] & mask
    while (this.index[i] !== slot + 1) i = (i + 1) & mask
    this.index[i] = -1
    this.removedPositions++
    this.keys[slot] = undefined
    this.values[slot] = null
    this.free.push(slot)
    this.count--
  }

  /** The key in `slot`, or undefined for a free slot. */
  keyOf(slot: number): string | undefined {
    return this.keys[slot]
  }

  /** The entry in `slot` as an update object (of `collection`, this collection's name). */
  read(slot: number, collection: string): EntryUpdate {
    return {
      collection,
      key: this.keys[slot] as string,
      wall: this.wall[slot],
      logical: this.logical[slot],
      node: this.writers.idOf(this.writer[slot]),
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

  /** A fresh index for `live` keys, at most a quarter full, without removed positions. */
  private rebuild(live: number): void {
    let size = MIN_INDEX
    while (size < live * 4) size *= 2
    const index = new Int32Array(size)
    const mask = size - 1
    for (let slot = 0; slot < this.used; slot++) {
      if (this.keys[slot] === undefined) continue
      let i = this.hashes[slot] & mask
      while (index[i] !== 0) i = (i + 1) & mask
      index[i] = slot + 1
    }
    this.index = index
    this.removedPositions = 0
  }

  private grow(): void {
    const slots = this.wall.length * 2
    this.hashes = resized(this.hashes, new Uint32Array(slots))
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
