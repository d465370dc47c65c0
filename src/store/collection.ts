/**
 * One collection of a replica: its keys, hashed into an open-addressing index,
 * and its entries column by column, with no JS object per entry. A slot's key
 * and value live as bytes (UTF-8 and MessagePack) in a record of an append-only
 * paged arena; its stamp, writer (with the deletion flag) and expiry in typed
 * arrays. A slot costs about 25 bytes besides its record (key and value bytes plus
 * 6 to 10 of framing); a value is decoded when read, and the last ones read or
 * written stay decoded in a small cache, so hot keys read at Map speed.
 *
 * Records are never changed once written: a new version goes to the end of the
 * current page and the old one becomes garbage. A page that falls below half
 * live is compacted (its live records copied to the current page) and dropped,
 * so an entry read earlier keeps valid bytes (its page stays alive while it is
 * referenced). A record over 64 KiB gets a buffer of its own.
 *
 * Compaction moves records, so it runs only once a change is complete (the last
 * step of {@link Collection.set}, {@link Collection.setFromBatch} and
 * {@link Collection.delete}): while a record is written, every location the change
 * holds (the slot's previous record, the write position checked for room) stays
 * where it was.
 */
import { randomBytes } from 'node:crypto'
import { copyBytes } from '../bytes/copy.js'
import { readUtf8, utf8Length, writeUtf8 } from '../bytes/utf8.js'
import { putVarint, readVarint, varintSize } from '../bytes/varint.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Json } from '../value/json.js'
import { strHeaderSize } from '../value/sizes.js'
import { type Writer, writeStr } from '../value/writer.js'
import type { EntryBatch } from './batch.js'
import { decodeValue, EncodedEntry, encodeValue } from './encoded.js'
import type { EntryUpdate } from './types.js'

const MIN_SLOTS = 8
const MIN_INDEX = 16
const PAGE_BITS = 20
/** Bytes of one arena page. */
const PAGE = 1 << PAGE_BITS
/** Records larger than this get a buffer of their own. */
const MAX_PAGED_RECORD = 64 * 1024
/** Pages addressable by a 32-bit location: 4 GiB of records per collection. */
const MAX_PAGES = 2 ** (32 - PAGE_BITS) - 1
/** The bit of the writer column that marks a tombstone (writer numbers stay below it). */
const DELETED = 0x80000000
/** The location of a free slot, and of a slot whose record has a buffer of its own. */
const FREE = 0xffffffff
const OWN = 0xfffffffe
/**
 * Logical counters at or above this are kept in a map, so the column can be 16-bit: a
 * counter grows only while writes share a millisecond or follow a clock ahead of this one.
 */
const WIDE = 0xffff
/**
 * An index position holds slot + 1 in its low SLOT_BITS and the top TAG_BITS of the
 * key's hash above them: a probe passes over other keys without reading their hash
 * (a cache miss each, in a large collection).
 */
const SLOT_BITS = 26
const SLOT_MASK = 2 ** SLOT_BITS - 1
const TAG_BITS = 31 - SLOT_BITS
/** Keys a collection may hold: slot + 1 must fit SLOT_BITS. */
const MAX_SLOTS = SLOT_MASK - 1

/** The index position value of `slot`, whose key hashes to `hash`. */
function position(slot: number, hash: number): number {
  return ((hash >>> (32 - TAG_BITS)) << SLOT_BITS) | (slot + 1)
}

/** Values kept decoded, per collection, at most: a collection of up to this many keys reads every hot key decoded. */
const MAX_CACHE = 16_384

/** A random seed per process, so that nobody can choose keys that all land on one index position. */
const SEED = randomBytes(4).readUInt32LE(0)

/** The 32-bit hash a key is indexed by. */
export function hashKey(key: string): number {
  let h = SEED
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1)
  return finishKeyHash(h)
}

/** {@link hashKey} of a key given as its UTF-8 bytes `bytes[start, end)` (an ASCII key's bytes are its characters). */
export function hashKeyBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = SEED
  for (let i = start; i < end; i++) {
    // Beyond ASCII, characters are not bytes: hash the string.
    if (bytes[i] >= 0x80) return hashKey(readUtf8(bytes, start, end))
    h = Math.imul(h ^ bytes[i], 0x9e3779b1)
  }
  return finishKeyHash(h)
}

function finishKeyHash(h: number): number {
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

  /** Every writer, by number (a frame's node table, when its entries carry these numbers). */
  all(): readonly string[] {
    return this.ids
  }
}

export class Collection {
  private readonly writers: Writers
  /** Index positions: 0 empty, -1 a removed key, otherwise {@link position}. At most 70 % are not empty. */
  private index = new Int32Array(MIN_INDEX)
  private removedPositions = 0
  private wall = new Float64Array(MIN_SLOTS)
  private logical = new Uint16Array(MIN_SLOTS)
  /** Logical counters of WIDE or more, by slot. */
  private readonly wideLogical = new Map<number, number>()
  /** Allocated with the first entry that expires. */
  private expiresAt: Float64Array | undefined
  /** The writer's number in {@link Writers}, and DELETED for a tombstone. */
  private writer = new Uint32Array(MIN_SLOTS)
  /** Where each slot's record starts: page << PAGE_BITS | offset; FREE; or OWN. */
  private loc = new Uint32Array(MIN_SLOTS).fill(FREE)
  private readonly own = new Map<number, Uint8Array>()
  private readonly pages: Array<Uint8Array | undefined> = []
  /** Live record bytes and bytes written, per page. */
  private readonly live: number[] = []
  private readonly filled: number[] = []
  private readonly freePages: number[] = []
  private page = -1
  private pos = PAGE
  /** Pages due for compaction, compacted by {@link compactQueued} once the change that made them due is complete. */
  private readonly compactQueue: number[] = []
  /** A direct-mapped cache of decoded values: slot & cacheMask → that slot's value, if cacheSlot says it is there. */
  private cacheSlot: Int32Array | undefined
  private cacheValue: Json[] = []
  private cacheMask = 0
  private readonly free: number[] = []
  private used = 0
  private count = 0
  /** Set by {@link record}. */
  private at = 0

  constructor(writers: Writers) {
    this.writers = writers
  }

  /** Entries stored (tombstones included). */
  get size(): number {
    return this.count
  }

  /** One past the highest slot in use: loop over slots below it, skipping those {@link has} says are free. */
  get slotLimit(): number {
    return this.used
  }

  /** Whether `slot` holds an entry. */
  has(slot: number): boolean {
    return this.loc[slot] !== FREE
  }

  /** The slot of `key` (whose hash is `hash`, when the caller has it already), or -1. */
  find(key: string, hash = hashKey(key)): number {
    const mask = this.index.length - 1
    const tag = position(-1, hash)
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const p = this.index[i]
      if (p === 0) return -1
      if (p > 0 && (p & ~SLOT_MASK) === tag) {
        const slot = (p & SLOT_MASK) - 1
        if (this.keyIs(slot, key)) return slot
      }
    }
  }

  /** {@link find} for an all-ASCII key given as its bytes `bytes[start, end)`, hashed by {@link hashKeyBytes}. */
  findAscii(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.index.length - 1
    const length = end - start
    const tag = position(-1, hash)
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const p = this.index[i]
      if (p === 0) return -1
      if (p > 0 && (p & ~SLOT_MASK) === tag) {
        const slot = (p & SLOT_MASK) - 1
        const record = this.record(slot)
        const keyLength = readVarint(record, this.at + 4)
        const keyStart = this.at + 4 + varintSize(keyLength)
        if (keyLength === length) {
          let j = 0
          while (j < length && record[keyStart + j] === bytes[start + j]) j++
          if (j === length) return slot
        }
      }
    }
  }

  /** Stores the entry of a key not yet present (`find` returned -1); returns its slot. */
  add(key: string, hash: number, update: EntryUpdate): number {
    const slot = this.nextSlot()
    this.set(slot, update, key)
    this.indexSlot(slot, hash)
    return slot
  }

  /**
   * {@link add} for entry `i` of a received batch, whose key is all ASCII and not yet
   * present (`findAscii` returned -1); `writer`: its writer's number in the replica's {@link Writers}.
   */
  addFromBatch(hash: number, batch: EntryBatch, i: number, writer: number): number {
    const slot = this.nextSlot()
    this.setFromBatch(slot, batch, i, writer)
    this.indexSlot(slot, hash)
    return slot
  }

  /** {@link set} for entry `i` of a received batch, whose key (all ASCII) is the one in `slot`. */
  setFromBatch(slot: number, batch: EntryBatch, i: number, writer: number): void {
    const deleted = batch.deleted(i)
    const previous = this.loc[slot]
    this.loc[slot] = this.write(
      slot,
      undefined,
      batch.bytes,
      batch.keyStart(i),
      batch.keyEnd(i),
      // A tombstone's record has no value bytes, as in set().
      deleted ? undefined : batch.bytes,
      deleted ? 0 : batch.valueStart(i),
      deleted ? 0 : batch.valueEnd(i)
    )
    if (previous !== FREE) this.release(slot, previous)
    this.stamp(slot, batch.wall(i), batch.logical(i), batch.expiresAt(i), deleted, writer)
    this.uncache(slot)
    this.compactQueued()
  }

  /** A slot for a new key (indexed by {@link indexSlot} once stored). */
  private nextSlot(): number {
    if ((this.count + this.removedPositions + 1) * 10 > this.index.length * 7) this.rebuild(this.count + 1)
    if (this.free.length === 0 && this.used >= MAX_SLOTS) {
      throw new SharedMemError(ErrorCode.STORE_FULL, `a collection holds ${MAX_SLOTS} keys, its limit`)
    }
    const slot = this.free.pop() ?? this.used++
    if (slot >= this.wall.length) this.grow()
    return slot
  }

  private indexSlot(slot: number, hash: number): void {
    const mask = this.index.length - 1
    let i = hash & mask
    while (this.index[i] > 0) i = (i + 1) & mask
    if (this.index[i] === -1) this.removedPositions--
    this.index[i] = position(slot, hash)
    this.count++
  }

  /** Stores a newer version of the entry in `slot` (`key`: its key, when the caller has it). */
  set(slot: number, update: EntryUpdate, key = update.key): void {
    let source: Uint8Array | undefined
    let start = 0
    let end = 0
    let text: string | undefined
    if (update instanceof EncodedEntry) {
      source = update.source
      start = update.start
      end = update.end
    } else if (update.deleted) {
      // A tombstone has no value bytes.
    } else if (typeof update.value === 'string' && update.encoded === undefined) {
      // The most common value, written straight into the record.
      text = update.value
    } else {
      source = update.encoded ?? encodeValue(update.value)
      end = source.byteLength
    }
    const previous = this.loc[slot]
    this.loc[slot] = this.write(slot, key, undefined, 0, 0, source, start, end, text)
    if (previous !== FREE) this.release(slot, previous)
    this.stamp(slot, update.wall, update.logical, update.expiresAt, update.deleted, this.writers.numberOf(update.node))
    // A local write's value is at hand decoded, and likely read next; a received one is decoded when read.
    if (!(update instanceof EncodedEntry)) this.cache(slot, update.deleted ? null : update.value)
    else this.uncache(slot)
    this.compactQueued()
  }

  private stamp(
    slot: number,
    wall: number,
    logical: number,
    expiresAt: number,
    deleted: boolean,
    writer: number
  ): void {
    this.wall[slot] = wall
    if (logical < WIDE) {
      this.logical[slot] = logical
      if (this.wideLogical.size > 0) this.wideLogical.delete(slot)
    } else {
      this.logical[slot] = WIDE
      this.wideLogical.set(slot, logical)
    }
    if (expiresAt !== 0 || this.expiresAt !== undefined) this.expiries()[slot] = expiresAt
    this.writer[slot] = deleted ? writer | DELETED : writer
  }

  /** Removes the entry in `slot`. */
  delete(slot: number): void {
    const mask = this.index.length - 1
    const hash = this.hashOf(slot)
    let i = hash & mask
    const p = position(slot, hash)
    while (this.index[i] !== p) i = (i + 1) & mask
    this.index[i] = -1
    this.removedPositions++
    const previous = this.loc[slot]
    this.loc[slot] = FREE
    this.release(slot, previous)
    if (this.wideLogical.size > 0) this.wideLogical.delete(slot)
    this.uncache(slot)
    this.free.push(slot)
    this.count--
    this.compactQueued()
  }

  /** The key in `slot`, or undefined for a free slot. */
  keyOf(slot: number): string | undefined {
    if (this.loc[slot] === FREE) return undefined
    const bytes = this.record(slot)
    const at = this.at
    const length = readVarint(bytes, at + 4)
    const start = at + 4 + varintSize(length)
    return readUtf8(bytes, start, start + length)
  }

  /** The entry in `slot` (of `collection`, this collection's name; `key`: its key, when the caller has it). */
  read(slot: number, collection: string, key?: string): EncodedEntry {
    const bytes = this.record(slot)
    const at = this.at
    const keyLength = readVarint(bytes, at + 4)
    const keyStart = at + 4 + varintSize(keyLength)
    const valueLength = readVarint(bytes, keyStart + keyLength)
    const valueStart = keyStart + keyLength + varintSize(valueLength)
    return new EncodedEntry(
      collection,
      key ?? readUtf8(bytes, keyStart, keyStart + keyLength),
      this.wall[slot],
      this.logicalOf(slot),
      this.writers.idOf(this.writerOf(slot)),
      this.expiryOf(slot),
      this.isDeleted(slot),
      this.isDeleted(slot) ? undefined : bytes,
      valueStart,
      valueStart + valueLength
    )
  }

  /** The value in `slot`, decoded (and kept decoded for the next read while the cache has room). */
  value(slot: number): Json {
    const cached = slot & this.cacheMask
    if (this.cacheSlot !== undefined && this.cacheSlot[cached] === slot) return this.cacheValue[cached]
    if (this.isDeleted(slot)) return null
    const bytes = this.record(slot)
    const at = this.at
    const value = decodeValue(bytes, valueStart(bytes, at))
    this.cache(slot, value)
    return value
  }

  /**
   * Writes the entry in `slot` as an UPDATES entry tuple straight from its record
   * (no key string, no entry object): `collection` is the collection's name already
   * encoded, and the writer goes as its number in the replica's {@link Writers}.
   */
  encodeEntry(w: Writer, slot: number, collection: Uint8Array): void {
    const bytes = this.record(slot)
    const keyLength = readVarint(bytes, this.at + 4)
    const keyStart = this.at + 4 + varintSize(keyLength)
    const valueLength = readVarint(bytes, keyStart + keyLength)
    const valueStart = keyStart + keyLength + varintSize(valueLength)
    w.arrayHeader(8)
    w.raw(collection)
    w.strBytes(bytes, keyStart, keyLength)
    w.uint(this.wall[slot])
    w.uint(this.logicalOf(slot))
    w.uint(this.writerOf(slot))
    w.uint(this.expiryOf(slot))
    const deleted = this.isDeleted(slot)
    w.bool(deleted)
    if (deleted) w.nil()
    else w.range(bytes, valueStart, valueStart + valueLength)
  }

  /** Bytes the entry in `slot` takes in a frame, about (for cutting frames by size). */
  recordBytes(slot: number): number {
    const bytes = this.record(slot)
    return recordSize(bytes, this.at) + 40
  }

  wallOf(slot: number): number {
    return this.wall[slot]
  }

  isLive(slot: number, now: number): boolean {
    return isLive(this.isDeleted(slot), this.expiryOf(slot), now)
  }

  isCollectable(slot: number, horizon: number): boolean {
    return isCollectable(this.isDeleted(slot), this.wall[slot], this.expiryOf(slot), horizon)
  }

  /** Bytes held in arena pages and own buffers (live and garbage), for status figures and tests. */
  arenaBytes(): number {
    let bytes = 0
    for (const page of this.pages) bytes += page?.byteLength ?? 0
    for (const record of this.own.values()) bytes += record.byteLength
    return bytes
  }

  /** The writer of the entry in `slot`, as its number in the replica's {@link Writers}. */
  writerOf(slot: number): number {
    return (this.writer[slot] & ~DELETED) >>> 0
  }

  isDeleted(slot: number): boolean {
    return (this.writer[slot] & DELETED) !== 0
  }

  logicalOf(slot: number): number {
    const l = this.logical[slot]
    return l === WIDE ? (this.wideLogical.get(slot) as number) : l
  }

  expiryOf(slot: number): number {
    return this.expiresAt === undefined ? 0 : this.expiresAt[slot]
  }

  private expiries(): Float64Array {
    this.expiresAt ??= new Float64Array(this.wall.length)
    return this.expiresAt
  }

  private cache(slot: number, value: Json): void {
    // Sized to the slots (up to MAX_CACHE), and made anew, empty, as they grow.
    if (this.cacheSlot === undefined || (this.cacheMask < MAX_CACHE - 1 && this.cacheMask < this.wall.length - 1)) {
      const size = Math.min(MAX_CACHE, this.wall.length)
      this.cacheSlot = new Int32Array(size).fill(-1)
      this.cacheValue = new Array(size).fill(null)
      this.cacheMask = size - 1
    }
    this.cacheSlot[slot & this.cacheMask] = slot
    this.cacheValue[slot & this.cacheMask] = value
  }

  private uncache(slot: number): void {
    if (this.cacheSlot !== undefined && this.cacheSlot[slot & this.cacheMask] === slot)
      this.cacheSlot[slot & this.cacheMask] = -1
  }

  private keyIs(slot: number, key: string): boolean {
    const bytes = this.record(slot)
    const at = this.at
    const length = readVarint(bytes, at + 4)
    const start = at + 4 + varintSize(length)
    if (length < key.length) return false
    if (length === key.length) {
      let i = 0
      while (i < length && key.charCodeAt(i) === bytes[start + i]) i++
      if (i === length) return true
      if (key.charCodeAt(i) < 0x80) return false
    }
    return readUtf8(bytes, start, start + length) === key
  }

  /** The hash of the key in `slot` (not kept: 4 bytes a slot; read again from its record for a rebuild or a removal). */
  private hashOf(slot: number): number {
    const bytes = this.record(slot)
    return recordKeyHash(bytes, this.at)
  }

  /** The buffer of the record of `slot`; its offset is left in `at` (no pair allocated per lookup). */
  private record(slot: number): Uint8Array {
    const loc = this.loc[slot]
    if (loc === OWN) {
      this.at = 0
      return this.own.get(slot) as Uint8Array
    }
    this.at = loc & (PAGE - 1)
    return this.pages[loc >>> PAGE_BITS] as Uint8Array
  }

  /**
   * Appends a record and returns its location: slot, key (the string `key`, or else the
   * UTF-8 bytes `keySource[keyStart, keyEnd)`), value (the bytes `source[start, end)`,
   * or the string `text` encoded). Moves no other record: a page it closes is only queued.
   */
  private write(
    slot: number,
    key: string | undefined,
    keySource: Uint8Array | undefined,
    keyStart: number,
    keyEnd: number,
    source: Uint8Array | undefined,
    start: number,
    end: number,
    text?: string
  ): number {
    const keyBytes = key === undefined ? keyEnd - keyStart : utf8Length(key)
    const textBytes = text === undefined ? 0 : utf8Length(text)
    const valueBytes = text === undefined ? end - start : strHeaderSize(textBytes) + textBytes
    const size = 4 + varintSize(keyBytes) + keyBytes + varintSize(valueBytes) + valueBytes
    let target: Uint8Array
    let at: number
    let loc: number
    if (size > MAX_PAGED_RECORD) {
      target = new Uint8Array(size)
      at = 0
      loc = OWN
      this.own.set(slot, target)
    } else {
      if (this.pos + size > PAGE) this.openPage()
      target = this.pages[this.page] as Uint8Array
      at = this.pos
      loc = (this.page << PAGE_BITS) | at
      this.pos += size
      this.filled[this.page] = this.pos
      this.live[this.page] += size
    }
    target[at] = slot & 0xff
    target[at + 1] = (slot >>> 8) & 0xff
    target[at + 2] = (slot >>> 16) & 0xff
    target[at + 3] = slot >>> 24
    let p = putVarint(target, at + 4, keyBytes)
    if (key !== undefined) p += writeUtf8(target, key, p, keyBytes)
    else {
      copyBytes(keySource as Uint8Array, keyStart, keyEnd, target, p)
      p += keyBytes
    }
    p = putVarint(target, p, valueBytes)
    if (source !== undefined) copyBytes(source, start, end, target, p)
    else if (text !== undefined) writeStr(target, p, text, textBytes)
    return loc >>> 0
  }

  /** Counts the record at `loc` (of `slot`) as garbage, queueing its page for compaction once it is mostly garbage. */
  private release(slot: number, loc: number): void {
    if (loc === OWN) {
      // A record of its own goes with its slot's next version, unless that one is its own too.
      if (this.loc[slot] !== OWN) this.own.delete(slot)
      return
    }
    const page = loc >>> PAGE_BITS
    const bytes = this.pages[page] as Uint8Array
    this.live[page] -= recordSize(bytes, loc & (PAGE - 1))
    if (page !== this.page && this.live[page] * 2 < this.filled[page]) this.queueCompaction(page)
  }

  /** Whether {@link openPage} can open a page (a collection holds at most MAX_PAGES). */
  private canOpenPage(): boolean {
    return this.freePages.length > 0 || this.pages.length < MAX_PAGES
  }

  /** Makes a fresh page the current one; the page it closes is queued for compaction if mostly garbage. */
  private openPage(): void {
    if (!this.canOpenPage()) {
      throw new SharedMemError(ErrorCode.STORE_FULL, 'a collection holds 4 GiB of keys and values, its limit')
    }
    const closed = this.page
    const page = this.freePages.pop() ?? this.pages.length
    // Plain Uint8Arrays, like a received batch's bytes: copying a range between them costs less than with Buffers.
    this.pages[page] = new Uint8Array(PAGE)
    this.live[page] = 0
    this.filled[page] = 0
    this.page = page
    this.pos = 0
    if (closed >= 0 && this.live[closed] * 2 < this.filled[closed]) this.queueCompaction(closed)
  }

  private queueCompaction(page: number): void {
    if (!this.compactQueue.includes(page)) this.compactQueue.push(page)
  }

  /** Compacts the queued pages (and those that compacting them closes). */
  private compactQueued(): void {
    for (let next = this.compactQueue.pop(); next !== undefined; next = this.compactQueue.pop()) {
      if (!this.compact(next)) {
        // No page to move records to: the rest stay where they are, valid, until pages are freed.
        this.compactQueue.length = 0
        return
      }
    }
  }

  /**
   * Copies the live records of `page` to the current page and drops it (readers of its old
   * records keep their bytes). Returns false, the page kept, when no page could be opened for them.
   */
  private compact(page: number): boolean {
    const bytes = this.pages[page] as Uint8Array
    const end = this.filled[page]
    for (let at = 0; at < end; ) {
      const size = recordSize(bytes, at)
      const slot = recordSlot(bytes, at)
      if (this.loc[slot] === ((page << PAGE_BITS) | at) >>> 0) {
        if (this.pos + size > PAGE) {
          if (!this.canOpenPage()) return false
          this.openPage()
        }
        const target = this.pages[this.page] as Uint8Array
        target.set(bytes.subarray(at, at + size), this.pos)
        this.loc[slot] = (this.page << PAGE_BITS) | this.pos
        this.pos += size
        this.filled[this.page] = this.pos
        this.live[this.page] += size
        this.live[page] -= size
      }
      at += size
    }
    this.pages[page] = undefined
    this.live[page] = 0
    this.filled[page] = 0
    this.freePages.push(page)
    return true
  }

  /** A fresh index for `live` keys, at most half full, without removed positions. */
  private rebuild(live: number): void {
    let size = MIN_INDEX
    while (size < live * 2) size *= 2
    // Each key is hashed again from its record first: page by page, in the order they were
    // written (a sequential read), skipping records that are garbage. Then the index is filled
    // from those hashes alone, so that its random writes meet it in the cache.
    const hashes = new Uint32Array(this.used)
    for (let page = 0; page < this.pages.length; page++) {
      const bytes = this.pages[page]
      if (bytes === undefined) continue
      const end = this.filled[page]
      for (let at = 0; at < end; at += recordSize(bytes, at)) {
        const slot = recordSlot(bytes, at)
        if (this.loc[slot] === ((page << PAGE_BITS) | at) >>> 0) hashes[slot] = recordKeyHash(bytes, at)
      }
    }
    for (const [slot, record] of this.own) hashes[slot] = recordKeyHash(record, 0)
    const index = new Int32Array(size)
    const mask = size - 1
    for (let slot = 0; slot < this.used; slot++) {
      if (this.loc[slot] === FREE) continue
      let i = hashes[slot] & mask
      while (index[i] !== 0) i = (i + 1) & mask
      index[i] = position(slot, hashes[slot])
    }
    this.index = index
    this.removedPositions = 0
  }

  private grow(): void {
    const slots = this.wall.length * 2
    this.wall = resized(this.wall, new Float64Array(slots))
    this.logical = resized(this.logical, new Uint16Array(slots))
    if (this.expiresAt !== undefined) this.expiresAt = resized(this.expiresAt, new Float64Array(slots))
    this.writer = resized(this.writer, new Uint32Array(slots))
    this.loc = resized(this.loc, new Uint32Array(slots).fill(FREE))
  }
}

function resized<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(from: T, to: T): T {
  to.set(from)
  return to
}

/** The slot a record at `at` was written for (its first four bytes, little-endian). */
function recordSlot(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

/** The {@link hashKey} of the key of the record at `at`. */
function recordKeyHash(bytes: Uint8Array, at: number): number {
  // A key's length is one byte below 128.
  if (bytes[at + 4] < 0x80) return hashKeyBytes(bytes, at + 5, at + 5 + bytes[at + 4])
  const length = readVarint(bytes, at + 4)
  const start = at + 4 + varintSize(length)
  return hashKeyBytes(bytes, start, start + length)
}

/** The size of the record at `at`. */
function recordSize(bytes: Uint8Array, at: number): number {
  const keyLength = readVarint(bytes, at + 4)
  const valueAt = at + 4 + varintSize(keyLength) + keyLength
  const valueLength = readVarint(bytes, valueAt)
  return valueAt + varintSize(valueLength) + valueLength - at
}

/** Where the value bytes of the record at `at` start. */
function valueStart(bytes: Uint8Array, at: number): number {
  const keyLength = readVarint(bytes, at + 4)
  const valueAt = at + 4 + varintSize(keyLength) + keyLength
  return valueAt + varintSize(readVarint(bytes, valueAt))
}
