/**
 * One collection of a replica: its keys in a {@link KeyIndex}, its entries' records
 * (key and value bytes) in an {@link Arena}, their stamps in {@link Stamps} columns,
 * and the values read last in a {@link ValueCache}; no JS object per entry. A slot
 * costs about 25 bytes besides its record (key and value bytes plus 6 to 10 of framing).
 */
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Json } from '../value/json.js'
import type { Writer } from '../value/writer.js'
import { Arena } from './arena.js'
import { collectionSeed, hashStored, type MemberHash } from './digest.js'
import { decodeValue, EncodedEntry, encodeValue, keyOfEntry } from './encoded.js'
import { hashKey, type Key, keyEquals } from './key.js'
import { type KeyHolder, KeyIndex, MAX_SLOTS } from './key-index.js'
import { isCollectable, isLive } from './lww.js'
import {
  isTombstoneAt,
  keyAt,
  keyHashAt,
  keyLengthAt,
  keyStartAt,
  recordSize,
  valueEndAt,
  valueStartAt
} from './record.js'
import { Stamps } from './stamps.js'
import type { EntryUpdate } from './types.js'
import { ValueCache } from './value-cache.js'
import type { Writers } from './writers.js'

const MIN_SLOTS = 8

/**
 * Sets `out[key]` as an own, enumerable property for every key: an assignment to `__proto__`
 * would set the object's prototype instead (the key missing, its value inherited by the object).
 */
function own(out: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

export class Collection implements KeyHolder {
  /** The digest hash words of the collection's name, from which its entries' hashes go on. */
  readonly seed: Uint32Array
  readonly stamps: Stamps
  private readonly index = new KeyIndex()
  private readonly arena = new Arena(MIN_SLOTS)
  private readonly cache = new ValueCache()
  private readonly free: number[] = []
  private used = 0

  constructor(
    readonly name: string,
    writers: Writers
  ) {
    this.seed = collectionSeed(name)
    this.stamps = new Stamps(MIN_SLOTS, writers)
  }

  /** Entries stored (tombstones included). */
  get size(): number {
    return this.index.size
  }

  /** One past the highest slot in use: loop over slots below it, skipping those {@link has} says are free. */
  get slotLimit(): number {
    return this.used
  }

  /** Whether `slot` holds an entry. */
  has(slot: number): boolean {
    return this.arena.has(slot)
  }

  /** The slot of `key` (whose {@link hashKey} is `hash`, when the caller has it already), or -1. */
  find(key: Key, hash = hashKey(key)): number {
    return this.index.find(hash, key, this)
  }

  /** Whether `slot` holds `key` (for the index's lookups). */
  holds(slot: number, key: Key): boolean {
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    return keyEquals(key, bytes, keyStartAt(bytes, at), keyLengthAt(bytes, at))
  }

  /**
   * Stores `update` in `slot` (a newer version of its key), or in a new slot when `slot` is -1
   * (a key not present: {@link find} returned -1; `hash`, its {@link hashKey}, when the caller has
   * it). Returns the slot.
   */
  put(slot: number, update: EntryUpdate, hash?: number): number {
    const key = keyOfEntry(update)
    const keyHash = hash ?? hashKey(key)
    const added = slot < 0
    if (added) slot = this.nextSlot()
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
    if (update.deleted || update instanceof EncodedEntry || typeof key !== 'string') this.cache.delete(slot, keyHash)
    else this.cache.set(key, keyHash, slot, update.value, this.stamps.capacity)
    if (added) this.index.insert(slot, keyHash)
    return slot
  }

  /** A slot for a new key (indexed once stored). */
  private nextSlot(): number {
    if (!this.index.hasRoom()) this.rebuild()
    if (this.free.length === 0 && this.used >= MAX_SLOTS) {
      throw new SharedMemError(ErrorCode.STORE_FULL, `a collection holds ${MAX_SLOTS} keys, its limit`)
    }
    const slot = this.free.pop() ?? this.used++
    if (slot >= this.stamps.capacity) {
      const slots = this.stamps.capacity * 2
      this.stamps.grow(slots)
      this.arena.grow(slots)
    }
    return slot
  }

  /** Removes the entry in `slot`. */
  delete(slot: number): void {
    const hash = keyHashAt(this.arena.bytes(slot), this.arena.offset(slot))
    this.index.remove(slot, hash)
    this.arena.remove(slot)
    this.stamps.clear(slot)
    this.cache.delete(slot, hash)
    this.free.push(slot)
  }

  /** The key in `slot`, or undefined for a free slot. */
  keyOf(slot: number): string | undefined {
    return this.arena.has(slot) ? keyAt(this.arena.bytes(slot), this.arena.offset(slot)).toString() : undefined
  }

  /** The entry in `slot`, its key and value still bytes of the record (`key`: its key, when the caller has it). */
  read(slot: number, key?: string): EncodedEntry {
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    const s = this.stamps
    const deleted = s.isDeleted(slot)
    return new EncodedEntry(
      this.name,
      key ?? keyAt(bytes, at),
      s.wallOf(slot),
      s.logicalOf(slot),
      s.nodeOf(slot),
      s.expiryOf(slot),
      deleted,
      deleted ? undefined : bytes,
      valueStartAt(bytes, at),
      valueEndAt(bytes, at)
    )
  }

  /** The digest hash of the version in `slot` (store/digest.ts), into `target`. */
  hashOf(slot: number, target: MemberHash): MemberHash {
    return hashStored(this.seed, keyAt(this.arena.bytes(slot), this.arena.offset(slot)), this.stamps, slot, target)
  }

  /**
   * The live value of `key`, or null: from the cache when it holds the key, which touches
   * neither the index nor the record. `now` is read only when the collection expires entries.
   */
  get(key: string, now: () => number): Json {
    const hash = hashKey(key)
    const line = this.cache.find(key, hash)
    if (line >= 0) {
      const live = !this.stamps.expires || isLive(false, this.stamps.expiryOf(this.cache.slotAt(line)), now())
      return live ? this.cache.valueAt(line) : null
    }
    const slot = this.index.find(hash, key, this)
    if (slot < 0) return null
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    // Removed: told by the record the lookup has just read, not by the stamps (one place less in memory).
    if (isTombstoneAt(bytes, at)) return null
    if (this.stamps.expires && !isLive(false, this.stamps.expiryOf(slot), now())) return null
    const value = decodeValue(bytes, valueStartAt(bytes, at))
    this.cache.set(key, hash, slot, value, this.stamps.capacity)
    return value
  }

  /** The value in `slot` (null if removed), from the cache when it holds it. */
  value(slot: number): Json {
    if (this.stamps.isDeleted(slot)) return null
    const line = this.cache.findSlot(slot, keyHashAt(this.arena.bytes(slot), this.arena.offset(slot)))
    return line >= 0 ? this.cache.valueAt(line) : this.decode(slot)
  }

  private decode(slot: number): Json {
    const bytes = this.arena.bytes(slot)
    return decodeValue(bytes, valueStartAt(bytes, this.arena.offset(slot)))
  }

  /**
   * Writes the entry in `slot` as an UPDATES entry tuple straight from its record (no key
   * string, no entry object): `name` is the collection's name already encoded, and the writer
   * goes as its number in the replica's {@link Writers}.
   */
  encodeEntry(w: Writer, slot: number, name: Uint8Array): void {
    const bytes = this.arena.bytes(slot)
    const at = this.arena.offset(slot)
    const s = this.stamps
    w.arrayHeader(8)
    w.raw(name)
    w.strBytes(bytes, keyStartAt(bytes, at), keyLengthAt(bytes, at))
    w.uint(s.wallOf(slot))
    w.uint(s.logicalOf(slot))
    w.uint(s.writerOf(slot))
    w.uint(s.expiryOf(slot))
    const deleted = s.isDeleted(slot)
    w.bool(deleted)
    if (deleted) w.nil()
    else w.range(bytes, valueStartAt(bytes, at), valueEndAt(bytes, at))
  }

  /** Every live key and its value, as a plain object. */
  liveObject(now: number): Record<string, Json> {
    const out: Record<string, Json> = {}
    for (let slot = 0; slot < this.used; slot++) {
      if (this.has(slot) && this.isLive(slot, now)) own(out, this.keyOf(slot) as string, this.value(slot))
    }
    return out
  }

  /** Bytes the entry in `slot` takes in a frame, about (for cutting frames by size). */
  recordBytes(slot: number): number {
    return recordSize(this.arena.bytes(slot), this.arena.offset(slot)) + 40
  }

  isLive(slot: number, now: number): boolean {
    return isLive(this.stamps.isDeleted(slot), this.stamps.expiryOf(slot), now)
  }

  isCollectable(slot: number, horizon: number): boolean {
    const s = this.stamps
    return isCollectable(s.isDeleted(slot), s.wallOf(slot), s.expiryOf(slot), horizon)
  }

  /** Bytes held for records (live and garbage), for status figures and tests. */
  arenaBytes(): number {
    return this.arena.byteLength()
  }

  /** A fresh index for one more key: each key hashed again from its record, read in the order written. */
  private rebuild(): void {
    const hashes = new Uint32Array(this.used)
    this.arena.forEachRecord((slot, bytes, at) => {
      hashes[slot] = keyHashAt(bytes, at)
    })
    this.index.rebuild(this.index.size + 1, this.used, hashes, (slot) => this.arena.has(slot))
  }
}
