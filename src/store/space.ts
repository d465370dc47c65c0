/**
 * Where collections keep their entries, slot by slot: a {@link KeyIndex} from key hashes
 * to slots, the records (key and value bytes) in an {@link Arena}, the stamps in
 * {@link Stamps} columns and the values read last in a {@link ValueCache}.
 *
 * A large collection has a space of its own. The small ones of a replica share one, so
 * that a collection of a few keys costs a few objects, not a dozen typed arrays and an
 * arena page of its own (docs/benchmarks.md, "Memory by shape"): there each slot is
 * marked with its collection's number, which every key's index hash is mixed with
 * ({@link indexHash}), so that the same key in many collections spreads over the index.
 */
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Json } from '../value/json.js'
import { Arena } from './arena.js'
import { decodeValue, EncodedEntry, encodeValue, keyOfEntry } from './encoded.js'
import { type Key, keyEquals } from './key.js'
import { type IndexedSlots, type KeyHolder, KeyIndex, MAX_SLOTS } from './key-index.js'
import { keyAt, keyHashAt, keyLengthAt, keyStartAt, valueStartAt } from './record.js'
import { Stamps } from './stamps.js'
import type { EntryUpdate } from './types.js'
import { MAX_CACHE, ValueCache } from './value-cache.js'
import type { Writers } from './writers.js'

const MIN_SLOTS = 8

/**
 * The hash a key is indexed under in a space: its {@link hashKey}, mixed with the number of
 * its collection in a shared space (0: a space of its own, where the key's hash is used as is).
 */
export function indexHash(keyHash: number, owner: number): number {
  if (owner === 0) return keyHash
  let h = keyHash ^ Math.imul(owner, 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export interface SpaceInit {
  /** Slots to make room for at first. */
  slots?: number
  /** Values kept decoded at most (a power of two). */
  cached?: number
  /** What the space holds, as STORE_FULL errors name it (default: a collection, or a replica's small collections). */
  holder?: string
}

export class Space implements KeyHolder, IndexedSlots {
  readonly stamps: Stamps
  readonly arena: Arena
  readonly cache: ValueCache
  private readonly index = new KeyIndex()
  private readonly free: number[] = []
  private used = 0
  /** In a shared space, the number of the collection each slot belongs to. */
  private owners: Uint32Array | undefined
  /** The number the next collection enrolled in a shared space gets. */
  private nextOwner = 1

  /** What the space holds, as STORE_FULL errors name it. */
  readonly holder: string

  constructor(
    /** The replica's writers, by whose numbers the stamps name them. */
    readonly writers: Writers,
    /** Whether many collections share the space (each slot then names its owner). */
    readonly shared: boolean,
    init: SpaceInit = {}
  ) {
    const slots = init.slots ?? MIN_SLOTS
    this.holder = init.holder ?? (shared ? "a replica's small collections" : 'a collection')
    this.stamps = new Stamps(slots, writers)
    this.arena = new Arena(slots, this.holder)
    this.cache = new ValueCache(init.cached ?? MAX_CACHE)
    if (shared) this.owners = new Uint32Array(slots)
  }

  /** A number for a collection that will keep its entries here (a shared space's), never given before. */
  enroll(): number {
    return this.nextOwner++
  }

  /** Keys held (tombstones included). */
  get size(): number {
    return this.index.size
  }

  /** One past the highest slot in use. */
  get slotLimit(): number {
    return this.used
  }

  /** Whether `slot` holds an entry. */
  has(slot: number): boolean {
    return this.arena.has(slot)
  }

  /** The collection `slot` belongs to (0 in a space of its own). */
  ownerOf(slot: number): number {
    return this.owners === undefined ? 0 : this.owners[slot]
  }

  /** The key in `slot`. */
  keyOf(slot: number): string {
    return keyAt(this.arena.bytes(slot), this.arena.offset(slot)).toString()
  }

  /**
   * The value in `slot` (of an entry not removed), from the cache when it holds it; decoded
   * otherwise, and kept in the cache when the caller names its key (a read of one key, not a scan).
   */
  value(slot: number, key?: string): Json {
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    const hash = indexHash(keyHashAt(bytes, at), this.ownerOf(slot))
    const line = this.cache.findSlot(slot, hash)
    if (line >= 0) return this.cache.valueAt(line)
    const value = decodeValue(bytes, valueStartAt(bytes, at))
    if (key !== undefined) this.cache.set(key, hash, slot, value, this.stamps.capacity)
    return value
  }

  /** Whether `slot` holds `key` (its key bytes: in a shared space, the caller checks the owner). */
  holds(slot: number, key: Key): boolean {
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    return keyEquals(key, bytes, keyStartAt(bytes, at), keyLengthAt(bytes, at))
  }

  /** The slot indexed under `hash` ({@link indexHash}) whose key `keys` says is `key`, or -1. */
  find(hash: number, key: Key, keys: KeyHolder): number {
    return this.index.find(hash, key, keys)
  }

  /** A free slot for a new key of collection `owner`, stored and indexed by {@link put}. */
  claim(owner: number): number {
    if (!this.index.hasRoom()) this.rebuild()
    else this.index.step(this)
    if (this.free.length === 0 && this.used >= MAX_SLOTS) {
      throw new SharedMemError(ErrorCode.STORE_FULL, `${this.holder}: ${MAX_SLOTS} keys stored, the limit`)
    }
    const slot = this.free.pop() ?? this.used++
    if (slot >= this.stamps.capacity) this.grow(Math.max(this.stamps.capacity * 2, slot + 1))
    if (this.owners !== undefined) this.owners[slot] = owner
    return slot
  }

  /**
   * Makes slots [0, `slots`) claimed, none stored yet: a collection moving in keeps each key's
   * slot number ({@link put} each, {@link release} the rest).
   */
  reserve(slots: number): void {
    if (this.used !== 0) throw new Error('a space is reserved only while empty')
    if (slots > this.stamps.capacity) this.grow(slots)
    this.index.rebuild(slots, 0, new Uint32Array(0), () => false)
    this.used = slots
  }

  /** Gives back a slot claimed or reserved but not stored. */
  release(slot: number): void {
    this.free.push(slot)
  }

  /**
   * Stores `update` in `slot`, its key indexed under `hash` ({@link indexHash}); `added`: the slot
   * was just claimed or reserved (then indexed too).
   */
  put(slot: number, update: EntryUpdate, hash: number, added: boolean): void {
    const key = keyOfEntry(update)
    if (update.deleted) this.arena.write(slot, key, undefined, 0, 0)
    else if (update instanceof EncodedEntry) this.arena.write(slot, key, update.source, update.start, update.end)
    else if (typeof update.value === 'string' && update.encoded === undefined)
      this.arena.write(slot, key, update.value, 0, 0)
    else {
      const bytes = update.encoded ?? encodeValue(update.value)
      this.arena.write(slot, key, bytes, 0, bytes.byteLength)
    }
    this.stamps.set(slot, update)
    // A local write's value is at hand decoded, and likely read next; a received one is decoded when read.
    if (update.deleted || update instanceof EncodedEntry || typeof key !== 'string') this.cache.delete(slot, hash)
    else this.cache.set(key, hash, slot, update.value, this.stamps.capacity)
    if (added) this.index.insert(slot, hash)
  }

  /** Removes the entry in `slot`, freeing the slot. */
  delete(slot: number): void {
    const hash = this.hashOf(slot)
    this.index.remove(slot, hash)
    this.arena.remove(slot)
    this.stamps.clear(slot)
    this.cache.delete(slot, hash)
    this.free.push(slot)
  }

  /** The hash `slot`'s key is indexed under, from its record. */
  hashOf(slot: number): number {
    return indexHash(keyHashAt(this.arena.bytes(slot), this.arena.offset(slot)), this.ownerOf(slot))
  }

  private grow(slots: number): void {
    this.stamps.grow(slots)
    this.arena.grow(slots)
    if (this.owners !== undefined) {
      const owners = new Uint32Array(slots)
      owners.set(this.owners)
      this.owners = owners
    }
  }

  /**
   * A fresh index for one more key in one go (a table below STEPWISE_FROM, or a growth that fell
   * behind): each key hashed again from its record, read in the order written.
   */
  private rebuild(): void {
    const hashes = new Uint32Array(this.used)
    this.arena.forEachRecord((slot, bytes, at) => {
      hashes[slot] = indexHash(keyHashAt(bytes, at), this.ownerOf(slot))
    })
    this.index.rebuild(this.index.size + 1, this.used, hashes, (slot) => this.arena.has(slot))
  }
}
