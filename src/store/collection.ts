/**
 * One collection of a replica: its entries as slots of a {@link Space} (key index,
 * arena of records, stamp columns, cache of decoded values; no JS object per entry).
 * A slot costs about 25 bytes besides its record (key and value bytes plus 6 to 10 of
 * framing).
 *
 * A collection starts in its replica's shared space, where it costs a few objects, and
 * moves to a space of its own once it holds {@link SMALL_KEYS} keys. Its entries are
 * addressed by position: in a space of its own, a position is the slot; in the shared
 * one, a list maps positions to slots. A key keeps its position while it is stored,
 * through the move too, so a paged walk over positions meets a key that stays once.
 */
import type { Json } from '../value/json.js'
import type { Writer } from '../value/writer.js'
import { bucketStored, collectionSeed, hashStored, type MemberHash, type Seed } from './digest.js'
import { decodeValue, EncodedEntry, keyOfEntry } from './encoded.js'
import { hashKey, type Key } from './key.js'
import type { KeyHolder } from './key-index.js'
import { isCollectable, isLive } from './lww.js'
import { isTombstoneAt, keyAt, keyLengthAt, keyStartAt, recordSize, valueEndAt, valueStartAt } from './record.js'
import { indexHash, Space } from './space.js'
import type { EntryUpdate } from './types.js'
import type { Writers } from './writers.js'

/** Keys a collection holds in the shared space at most: with more, a space of its own costs little per key. */
export const SMALL_KEYS = 64

/**
 * Sets `out[key]` as an own, enumerable property for every key: an assignment to `__proto__`
 * would set the object's prototype instead (the key missing, its value inherited by the object).
 */
function own(out: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

/** Positions in use of a collection in the shared space (the fields a collection keeps are few: there may be millions). */
function held(slots: readonly number[]): number {
  let n = 0
  for (const slot of slots) if (slot >= 0) n++
  return n
}

export class Collection implements KeyHolder, Seed {
  /** The digest hash words of the collection's name, from which its entries' hashes go on. */
  readonly seed0: number
  readonly seed1: number
  private space: Space
  /** The collection's number in a shared space (0: a space of its own). */
  private owner: number
  /** In a shared space: the slot at each position (-1: free); undefined in a space of its own. */
  private slots: number[] | undefined
  /** The last move of the digest's line whose scan has passed this collection (store/tally.ts; 0: none). */
  lineScanned = 0

  /** `shared`: the replica's shared space to start in; none: a space of its own from the start. */
  constructor(
    readonly name: string,
    writers: Writers,
    shared?: Space
  ) {
    const seed = collectionSeed(name)
    this.seed0 = seed.seed0
    this.seed1 = seed.seed1
    this.space = shared ?? new Space(writers, false)
    this.owner = shared === undefined ? 0 : shared.enroll()
    this.slots = shared === undefined ? undefined : []
  }

  /** Entries stored (tombstones included). */
  get size(): number {
    return this.slots === undefined ? this.space.size : held(this.slots)
  }

  /** One past the highest position in use: loop over positions below it, skipping those {@link has} says are free. */
  get slotLimit(): number {
    return this.slots === undefined ? this.space.slotLimit : this.slots.length
  }

  /** The slot of the space at `position` (-1: free). */
  private slotAt(position: number): number {
    return this.slots === undefined ? position : this.slots[position]
  }

  /** Whether `position` holds an entry. */
  has(position: number): boolean {
    return this.slots === undefined ? this.space.has(position) : this.slots[position] >= 0
  }

  /** The position of `key` (whose {@link hashKey} is `hash`, when the caller has it already), or -1. */
  find(key: Key, hash = hashKey(key)): number {
    if (this.slots === undefined) return this.space.find(hash, key, this.space)
    const slot = this.space.find(indexHash(hash, this.owner), key, this)
    return slot < 0 ? -1 : this.slots.indexOf(slot)
  }

  /** Whether the space's `slot` holds `key` of this collection (for the index's lookups in a shared space). */
  holds(slot: number, key: Key): boolean {
    return this.space.ownerOf(slot) === this.owner && this.space.holds(slot, key)
  }

  /**
   * Stores `update` in `position` (a newer version of its key), or in a new position when
   * `position` is -1 (a key not present: {@link find} returned -1; `hash`, its {@link hashKey},
   * when the caller has it). Returns the position.
   */
  put(position: number, update: EntryUpdate, hash = hashKey(keyOfEntry(update))): number {
    const added = position < 0
    if (added && this.slots !== undefined && held(this.slots) >= SMALL_KEYS) this.moveOut()
    const slot = added ? this.space.claim(this.owner) : this.slotAt(position)
    try {
      this.space.put(slot, update, indexHash(hash, this.owner), added)
    } catch (err) {
      // Nothing stored (the arena is full): the new key takes no slot.
      if (added) this.space.release(slot)
      throw err
    }
    return added ? this.place(slot) : position
  }

  /** The position of a new key stored in `slot`: a free one of the list, or one more, in a shared space. */
  private place(slot: number): number {
    if (this.slots === undefined) return slot
    const position = this.slots.indexOf(-1)
    if (position >= 0) {
      this.slots[position] = slot
      return position
    }
    // concat makes an array of exactly this length; a spread or a push leaves room for 16 more.
    this.slots = this.slots.concat(slot)
    return this.slots.length - 1
  }

  /** Moves the entries to a space of their own, each key keeping its position as its slot there. */
  private moveOut(): void {
    const slots = this.slots as number[]
    const from = this.space
    const to = new Space(from.writers, false, { slots: Math.max(slots.length * 2, 8) })
    to.reserve(slots.length)
    for (let position = 0; position < slots.length; position++) {
      const slot = slots[position]
      if (slot < 0) {
        to.release(position)
        continue
      }
      const entry = this.read(position)
      to.put(position, entry, hashKey(keyOfEntry(entry)), true)
      from.delete(slot)
    }
    this.space = to
    this.owner = 0
    this.slots = undefined
  }

  /** Removes the entry in `position`. */
  delete(position: number): void {
    this.space.delete(this.slotAt(position))
    if (this.slots === undefined) return
    this.slots[position] = -1
  }

  /** The key in `position`, or undefined for a free one. */
  keyOf(position: number): string | undefined {
    return this.has(position) ? this.space.keyOf(this.slotAt(position)) : undefined
  }

  /** The entry in `position`, its key and value still bytes of the record (`key`: its key, when the caller has it). */
  read(position: number, key?: string): EncodedEntry {
    const { arena, stamps: s } = this.space
    const slot = this.slotAt(position)
    const bytes = arena.bytes(slot)
    const at = arena.offset(slot)
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

  /** The digest bucket of the key in `position` (store/digest.ts), read from its record. */
  bucketAt(position: number): number {
    const { arena } = this.space
    const slot = this.slotAt(position)
    return bucketStored(this, keyAt(arena.bytes(slot), arena.offset(slot)))
  }

  /** The digest hash of the version in `position` (store/digest.ts), into `target`. */
  hashOf(position: number, target: MemberHash): MemberHash {
    const { arena, stamps } = this.space
    const slot = this.slotAt(position)
    return hashStored(this, keyAt(arena.bytes(slot), arena.offset(slot)), stamps, slot, target)
  }

  /**
   * The live value of `key`, or null: from the cache when it holds the key, which touches
   * neither the index nor the record. `now` is read only when the space holds entries that expire.
   */
  get(key: string, now: () => number): Json {
    const { arena, cache, stamps } = this.space
    const keyHash = hashKey(key)
    const hash = indexHash(keyHash, this.owner)
    const line = cache.find(key, hash)
    if (line >= 0 && (this.owner === 0 || this.space.ownerOf(cache.slotAt(line)) === this.owner)) {
      const live = !stamps.expires || isLive(false, stamps.expiryOf(cache.slotAt(line)), now())
      return live ? cache.valueAt(line) : null
    }
    const slot = this.space.find(hash, key, this.owner === 0 ? this.space : this)
    if (slot < 0) return null
    const bytes = arena.bytes(slot)
    const at = arena.offset(slot)
    // Removed: told by the record the lookup has just read, not by the stamps (one place less in memory).
    if (isTombstoneAt(bytes, at)) return null
    if (stamps.expires && !isLive(false, stamps.expiryOf(slot), now())) return null
    const value = decodeValue(bytes, valueStartAt(bytes, at))
    cache.set(key, hash, slot, value, stamps.capacity)
    return value
  }

  /** The value in `position` (null if removed), from the cache when it holds it. */
  value(position: number): Json {
    const slot = this.slotAt(position)
    return this.space.stamps.isDeleted(slot) ? null : this.space.value(slot)
  }

  /**
   * Writes the entry in `position` as an UPDATES entry tuple straight from its record (no key
   * string, no entry object): `name` is the collection's name already encoded, and the writer
   * goes as its number in the replica's {@link Writers}.
   */
  encodeEntry(w: Writer, position: number, name: Uint8Array): void {
    const { arena, stamps: s } = this.space
    const slot = this.slotAt(position)
    const bytes = arena.bytes(slot)
    const at = arena.offset(slot)
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
    for (let position = 0; position < this.slotLimit; position++) {
      if (this.has(position) && this.isLive(position, now))
        own(out, this.keyOf(position) as string, this.value(position))
    }
    return out
  }

  /** Bytes the entry in `position` takes in a frame, about (for cutting frames by size). */
  recordBytes(position: number): number {
    const { arena } = this.space
    const slot = this.slotAt(position)
    return recordSize(arena.bytes(slot), arena.offset(slot)) + 40
  }

  isLive(position: number, now: number): boolean {
    return isLive(this.isDeleted(position), this.expiryOf(position), now)
  }

  isCollectable(position: number, horizon: number): boolean {
    return isCollectable(this.isDeleted(position), this.wallOf(position), this.expiryOf(position), horizon)
  }

  isDeleted(position: number): boolean {
    return this.space.stamps.isDeleted(this.slotAt(position))
  }

  wallOf(position: number): number {
    return this.space.stamps.wallOf(this.slotAt(position))
  }

  expiryOf(position: number): number {
    return this.space.stamps.expiryOf(this.slotAt(position))
  }

  /** The last-writer-wins order of stamp (`wall`, `logical`, `node`) against the stamp in `position` (clock/hlc.ts). */
  compare(wall: number, logical: number, node: string, position: number): number {
    return this.space.stamps.compare(wall, logical, node, this.slotAt(position))
  }

  /** Bytes held for records (live and garbage) by a collection with a space of its own (0 in the shared one), for tests. */
  arenaBytes(): number {
    return this.slots === undefined ? this.space.arena.byteLength() : 0
  }
}
