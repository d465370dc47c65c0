/**
 * The records of a collection's slots (store/record.ts), in an append-only paged
 * arena: no JS object per entry. Records are never changed once written: a new
 * version goes to the end of the current page and the old one becomes garbage.
 * A page that falls below half live is compacted (its live records copied to the
 * current page) and dropped, so an entry read earlier keeps valid bytes (its page
 * stays alive while it is referenced). A record over 64 KiB gets a buffer of its own.
 * A page is opened about as large as the records the arena holds (1 KiB to 1 MiB), so
 * that a collection of a few keys holds a few KiB, not a whole 1 MiB page.
 *
 * Compaction moves records, so it runs only once a change is complete (the last
 * step of {@link Arena.write} and {@link Arena.remove}): while a record is written,
 * every location the change holds (the slot's previous record, the write position
 * checked for room) stays where it was.
 */
import { ErrorCode, SharedMemError } from '../errors.js'
import { type Key, keyLength } from './key.js'
import {
  type RecordValue,
  recordSize,
  recordSizeFor,
  recordSlot,
  textLength,
  valueLength,
  writeRecordKey,
  writeRecordValue
} from './record.js'

const PAGE_BITS = 20
/** Bytes of the largest arena page (an offset in a page must fit PAGE_BITS). */
const PAGE = 1 << PAGE_BITS
/** Bytes of the smallest: what a collection of a handful of small entries needs. */
const MIN_PAGE = 1024
/** Records larger than this get a buffer of their own. */
const MAX_PAGED_RECORD = 64 * 1024
/** Pages addressable by a 32-bit location: 4 GiB of records per collection. */
const MAX_PAGES = 2 ** (32 - PAGE_BITS) - 1
/** The location of a free slot, and of a slot whose record has a buffer of its own. */
const FREE = 0xffffffff
const OWN = 0xfffffffe

export class Arena {
  /** Where each slot's record starts: page << PAGE_BITS | offset; FREE; or OWN. */
  private loc: Uint32Array
  private readonly own = new Map<number, Uint8Array>()
  private readonly pages: Array<Uint8Array | undefined> = []
  /** Live record bytes and bytes written, per page. */
  private readonly live: number[] = []
  private readonly filled: number[] = []
  private readonly freePages: number[] = []
  private page = -1
  /** The write position in the current page, and that page's size. */
  private pos = 0
  private room = 0
  /** Live record bytes in all pages (what the next page is sized by). */
  private liveTotal = 0
  /** Pages due for compaction, compacted by {@link compactQueued} once the change that made them due is complete. */
  private readonly compactQueue: number[] = []

  /** `holder`: what the arena's records belong to, as a STORE_FULL error names it. */
  constructor(
    slots: number,
    private readonly holder = 'a collection'
  ) {
    this.loc = new Uint32Array(slots).fill(FREE)
  }

  /** Makes room for records of `slots` slots. */
  grow(slots: number): void {
    const loc = new Uint32Array(slots).fill(FREE)
    loc.set(this.loc)
    this.loc = loc
  }

  /** Whether `slot` has a record. */
  has(slot: number): boolean {
    return this.loc[slot] !== FREE
  }

  /** The buffer that holds the record of `slot` (valid while the caller holds it, even after compaction). */
  bytes(slot: number): Uint8Array {
    const loc = this.loc[slot]
    return loc === OWN ? (this.own.get(slot) as Uint8Array) : (this.pages[loc >>> PAGE_BITS] as Uint8Array)
  }

  /** Where the record of `slot` starts in {@link bytes}. */
  offset(slot: number): number {
    const loc = this.loc[slot]
    return loc === OWN ? 0 : loc & (PAGE - 1)
  }

  /**
   * Writes the record of `slot`, `key` and `value` (bytes `value[start, end)`, a string, or
   * none), replacing the slot's previous one (which becomes garbage).
   */
  write(slot: number, key: Key, value: RecordValue, start: number, end: number): void {
    const keyBytes = keyLength(key)
    const textBytes = textLength(value)
    const size = recordSizeFor(keyBytes, valueLength(value, start, end, textBytes))
    const previous = this.loc[slot]
    let target: Uint8Array
    let at = 0
    if (size > MAX_PAGED_RECORD) {
      target = new Uint8Array(size)
      this.loc[slot] = OWN
      this.own.set(slot, target)
    } else {
      if (this.pos + size > this.room) this.openPage(size)
      target = this.pages[this.page] as Uint8Array
      at = this.pos
      this.loc[slot] = ((this.page << PAGE_BITS) | at) >>> 0
      this.pos += size
      this.filled[this.page] = this.pos
      this.live[this.page] += size
      this.liveTotal += size
    }
    writeRecordValue(target, writeRecordKey(target, at, slot, key, keyBytes), value, start, end, textBytes)
    if (previous !== FREE) this.release(slot, previous)
    this.compactQueued()
  }

  /** Drops the record of `slot`. */
  remove(slot: number): void {
    const previous = this.loc[slot]
    this.loc[slot] = FREE
    this.release(slot, previous)
    this.compactQueued()
  }

  /** Bytes held in pages and own buffers (live and garbage). */
  byteLength(): number {
    let bytes = 0
    for (const page of this.pages) bytes += page?.byteLength ?? 0
    for (const record of this.own.values()) bytes += record.byteLength
    return bytes
  }

  /**
   * Calls `visit` for every live record, page by page in the order they were written (a
   * sequential read, for a caller that reads every record), then those with buffers of their own.
   */
  forEachRecord(visit: (slot: number, bytes: Uint8Array, at: number) => void): void {
    for (let page = 0; page < this.pages.length; page++) {
      const bytes = this.pages[page]
      if (bytes === undefined) continue
      const end = this.filled[page]
      for (let at = 0; at < end; at += recordSize(bytes, at)) {
        const slot = recordSlot(bytes, at)
        if (this.loc[slot] === ((page << PAGE_BITS) | at) >>> 0) visit(slot, bytes, at)
      }
    }
    for (const [slot, record] of this.own) visit(slot, record, 0)
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
    const size = recordSize(bytes, loc & (PAGE - 1))
    this.live[page] -= size
    this.liveTotal -= size
    if (page !== this.page && this.live[page] * 2 < this.filled[page]) this.queueCompaction(page)
  }

  /** Whether {@link openPage} can open a page (a collection holds at most MAX_PAGES). */
  private canOpenPage(): boolean {
    return this.freePages.length > 0 || this.pages.length < MAX_PAGES
  }

  /**
   * Makes a fresh page, with room for a record of `need` bytes, the current one; the page it
   * closes is queued for compaction if mostly garbage.
   */
  private openPage(need: number): void {
    if (!this.canOpenPage()) {
      throw new SharedMemError(ErrorCode.STORE_FULL, `${this.holder}: 4 GiB of keys and values stored, the limit`)
    }
    const closed = this.page
    const page = this.freePages.pop() ?? this.pages.length
    // Plain Uint8Arrays, like a received batch's bytes: copying a range between them costs less than with Buffers.
    let size = MIN_PAGE
    while (size < PAGE && (size < need || size < this.liveTotal)) size *= 2
    this.pages[page] = new Uint8Array(size)
    this.live[page] = 0
    this.filled[page] = 0
    this.page = page
    this.pos = 0
    this.room = size
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
        if (this.pos + size > this.room) {
          if (!this.canOpenPage()) return false
          this.openPage(size)
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
}
