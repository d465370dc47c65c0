/**
 * The UPDATES message: entries and counter slots, their writers numbered in a node table.
 * Encoded from updates or from entry tuples a store already wrote; decoded straight from its
 * bytes into columns (an EntryBatch), every field checked.
 */
import { plainBytes } from '../bytes/copy.js'
import { readName } from '../bytes/utf8.js'
import { decodeError } from '../errors.js'
import { EntryBatch } from '../store/batch.js'
import { EncodedEntry } from '../store/encoded.js'
import { type CounterUpdate, type CounterWindow, type EntryUpdate, FIRST_WINDOW } from '../store/types.js'
import { checkName, MAX_DEADLINE } from '../store/validate.js'
import { encodedSize, writeValue } from '../value/check.js'
import type { ValueLimits } from '../value/json.js'
import { Reader } from '../value/reader.js'
import { Writer } from '../value/writer.js'
import { guard, guardError, isNodeId, MessageType, UPDATES_VERSION } from './base.js'

/** Limits applied while decoding untrusted bytes. */
export interface DecodeLimits {
  maxMessageBytes: number
  maxMessageEntries: number
  maxKeyLength: number
  maxValueBytes: number
  maxValueDepth: number
}

/** An entry to send, with its value's encoded size when already known. */
export interface WireEntry {
  readonly update: EntryUpdate
  /** `encodedSize(update.value)`, as measured when the value was saved; computed when absent. */
  size?: number
}

/** The decoded content of an UPDATES message. */
export interface Updates {
  type: 'updates'
  entries: EntryUpdate[]
  counters: CounterUpdate[]
  /** Entries and counter slots left out because a field broke the rules (the others stand). */
  refused: Error[]
}

/** Per-entry framing overhead estimate (tuple, stamp, indexes), in bytes. */
const ENTRY_OVERHEAD = 48
/** The same for a counter slot (tuple, four totals, the window's stamp and deadline). */
const COUNTER_OVERHEAD = 80

/** Estimated encoded size of an entry, for splitting batches by bytes. */
export function wireSize(entry: WireEntry): number {
  const u = entry.update
  entry.size ??= u.deleted
    ? 1
    : u instanceof EncodedEntry
      ? u.encodedLength
      : (u.encoded?.byteLength ?? encodedSize(u.value))
  return entry.size + u.key.length + u.collection.length + ENTRY_OVERHEAD
}

/**
 * Encodes a batch of updates as one UPDATES message. Values that carry their
 * bytes (`encoded`) are copied in as they are; others are encoded here. A gossip
 * `publisher` is numbered first in the node table, where routing reads it.
 */
export function encodeUpdates(
  entries: Iterable<WireEntry>,
  counters: Iterable<CounterUpdate>,
  publisher?: string
): Uint8Array {
  const list = Array.isArray(entries) ? (entries as WireEntry[]) : [...entries]
  const slots = [...counters]
  // The node table comes first: number the writers before writing anything.
  const index = new Map<string, number>()
  const number = (node: string): void => {
    if (!index.has(node)) index.set(node, index.size)
  }
  // The publisher first, whatever it sends (a reset carries every peer's slot): publisherOf reads it there.
  if (publisher !== undefined) number(publisher)
  let size = 64
  for (const entry of list) {
    number(entry.update.node)
    size += wireSize(entry)
  }
  for (const c of slots) {
    number(c.slot.slice(0, c.slot.indexOf('/')))
    if (c.window !== undefined && c.window.node !== '') number(c.window.node)
    size += c.counter.length + c.slot.length + COUNTER_OVERHEAD
  }
  const w = new Writer(size + index.size * 60)
  writeHead(w, index.keys(), list.length)
  for (const { update: u } of list) {
    w.arrayHeader(8)
    w.str(u.collection)
    w.str(u.key)
    w.uint(u.wall)
    w.uint(u.logical)
    w.uint(index.get(u.node) as number)
    w.uint(u.expiresAt)
    w.bool(u.deleted)
    if (u.deleted) w.nil()
    else if (u instanceof EncodedEntry) w.range(u.source as Uint8Array, u.start, u.end)
    else if (u.encoded !== undefined) w.raw(u.encoded)
    else writeValue(u.value, w)
  }
  w.arrayHeader(slots.length)
  for (const c of slots) {
    const cut = c.slot.indexOf('/')
    w.arrayHeader(8)
    w.str(c.counter)
    w.uint(index.get(c.slot.slice(0, cut)) as number)
    w.str(c.slot.slice(cut + 1))
    w.uint(c.inc)
    w.uint(c.dec)
    w.uint(c.baseInc ?? 0)
    w.uint(c.baseDec ?? 0)
    const window = c.window
    if (window === undefined || window.node === '') w.nil()
    else {
      w.arrayHeader(4)
      w.uint(window.wall)
      w.uint(window.logical)
      w.uint(index.get(window.node) as number)
      w.uint(window.expiresAt)
    }
  }
  return w.finish()
}

/**
 * An UPDATES message of `count` entry tuples already encoded in `entries` (no counters),
 * whose writers are numbers into `nodes`: what a sync sender writes straight from its store.
 */
export function encodeEntryTuples(nodes: Iterable<string>, entries: Uint8Array, count: number): Uint8Array {
  const w = new Writer(entries.byteLength + 64 * 60)
  writeHead(w, nodes, count)
  w.raw(entries)
  w.arrayHeader(0)
  return w.finish()
}

/** The start of an UPDATES message, up to the header of its `entries` entry tuples. */
function writeHead(w: Writer, nodes: Iterable<string>, entries: number): void {
  const table = [...nodes]
  w.arrayHeader(5)
  w.uint(MessageType.UPDATES)
  w.uint(UPDATES_VERSION)
  w.arrayHeader(table.length)
  for (const node of table) w.str(node)
  w.arrayHeader(entries)
}

/**
 * An UPDATES message that {@link readEntryFrame} did not take: of another layout than
 * `UPDATES_VERSION` (there is one, docs/protocol.md "Compatibility").
 */
export function unsupportedUpdates(version: unknown): Error {
  return decodeError(`unsupported UPDATES layout ${String(version)}`)
}

/** An UPDATES message, its entries still columns over its bytes. */
export interface EntryFrame {
  type: 'frame'
  batch: EntryBatch
  counters: CounterUpdate[]
  /** Entries and counter slots left out because a field broke the rules (the others stand). */
  refused: Error[]
}

/**
 * Decodes an UPDATES message of the current layout straight from its bytes, checking
 * every field: each value is checked and kept as the bytes it came in (decoded only
 * when read), and the entries are left as an {@link EntryBatch} over `bytes`, with no
 * object per entry (what gossip and sync merge). An entry or counter slot whose field
 * breaks a rule but whose MessagePack is whole is left out and listed in `refused`, so
 * that one bad entry never takes its neighbours down; malformed MessagePack refuses the
 * whole message. Returns undefined for any other message (which the caller unpacks whole,
 * refusing an UPDATES message of another layout with {@link unsupportedUpdates}).
 */
export function readEntryFrame(frame: Uint8Array, limits: DecodeLimits): EntryFrame | undefined {
  // The array header of five fields is the one every writer of this layout writes (writeHead).
  if (frame.byteLength < 3 || frame[0] !== 0x95 || frame[1] !== MessageType.UPDATES || frame[2] !== UPDATES_VERSION)
    return undefined
  // Entries are copied out of these bytes one range at a time: from a plain Uint8Array, that costs less.
  const bytes = plainBytes(frame)
  const r = new Reader(bytes, 3)
  return guard(() => {
    const nodeCount = r.array()
    if (nodeCount > limits.maxMessageEntries * 2) throw decodeError('node table is too long')
    const nodes: string[] = []
    for (let i = 0; i < nodeCount; i++) {
      const node = r.str()
      if (!isNodeId(node)) throw decodeError('node table is not a list of peer ids')
      nodes.push(node)
    }
    const entryCount = r.array()
    if (entryCount > limits.maxMessageEntries) throw tooMany(entryCount, limits)
    const values = { maxDepth: limits.maxValueDepth, maxBytes: limits.maxValueBytes }
    const batch = new EntryBatch(bytes, nodes, entryCount)
    const refused: Error[] = []
    for (let i = 0; i < entryCount; i++) {
      const at = r.pos
      try {
        readEntry(r, batch, limits, values)
      } catch (err) {
        passOver(r, at, err, refused)
      }
    }
    const counterCount = r.array()
    if (entryCount + counterCount > limits.maxMessageEntries) throw tooMany(entryCount + counterCount, limits)
    const counters: CounterUpdate[] = []
    for (let i = 0; i < counterCount; i++) {
      const at = r.pos
      try {
        counters.push(readCounter(r, nodes, limits))
      } catch (err) {
        passOver(r, at, err, refused)
      }
    }
    if (!r.done) throw decodeError('updates message has bytes after its end')
    return { type: 'frame', batch, counters, refused }
  })
}

/**
 * After an item starting at `at` broke a rule (`err`), moves past the whole item and lists
 * the error in `refused`. Malformed MessagePack (the item cannot be skipped) still throws:
 * then nothing of the message can be trusted.
 */
function passOver(r: Reader, at: number, err: unknown, refused: Error[]): void {
  r.pos = at
  r.skip()
  refused.push(guardError(err))
}

function tooMany(count: number, limits: DecodeLimits): Error {
  return decodeError(`message carries ${count} updates; the limit is ${limits.maxMessageEntries}`)
}

/** Reads one entry tuple into `batch`, checking every field. */
function readEntry(r: Reader, batch: EntryBatch, limits: DecodeLimits, values: ValueLimits): void {
  if (r.array() !== 8) throw decodeError('entry is not an 8-field tuple')
  const collection = checkName('collection', r.repeatedStr(), limits.maxKeyLength)
  const keyLength = r.strBytes()
  if (keyLength === undefined) checkName('key', undefined, limits.maxKeyLength)
  const keyEnd = r.pos
  const keyStart = keyEnd - (keyLength as number)
  // An all-ASCII key (the common case) is checked on its bytes; any other is decoded.
  let ascii = true
  for (let i = keyStart; i < keyEnd && ascii; i++) ascii = r.bytes[i] < 0x80
  const text = ascii ? undefined : readName(r.bytes, keyStart, keyEnd)
  if (ascii) checkKeyLength(keyEnd - keyStart, limits.maxKeyLength)
  else checkName('key', text, limits.maxKeyLength)
  const wall = r.count()
  const logical = r.count()
  const nodeIdx = r.count()
  const expiresAt = r.count()
  if (
    wall === undefined ||
    logical === undefined ||
    expiresAt === undefined ||
    expiresAt > MAX_DEADLINE ||
    wall > MAX_DEADLINE ||
    nodeIdx === undefined ||
    nodeIdx >= batch.nodes.length
  ) {
    throw decodeError('entry has a bad timestamp, expiry or writer')
  }
  const deleted = r.bool()
  if (deleted === undefined) throw decodeError('entry has a bad deleted flag')
  const start = r.pos
  if (deleted) {
    if (!r.nil()) throw decodeError('tombstone carries a value')
  } else r.value(values)
  batch.push(
    batch.collectionNumber(collection),
    keyStart,
    keyEnd,
    text,
    wall,
    logical,
    nodeIdx,
    expiresAt,
    deleted,
    start,
    r.pos
  )
}

/** checkName's rules for a key of `length` ASCII characters, without making the string. */
function checkKeyLength(length: number, maxLength: number): void {
  if (length === 0 || length > maxLength) checkName('key', 'x'.repeat(length), maxLength)
}

function readCounter(r: Reader, nodes: string[], limits: DecodeLimits): CounterUpdate {
  if (r.array() !== 8) throw decodeError('counter is not an 8-field tuple')
  const counter = r.str()
  const nodeIdx = r.count()
  const incarnation = r.str()
  const inc = r.count()
  const dec = r.count()
  const baseInc = r.count()
  const baseDec = r.count()
  const node = nodes[nodeIdx as number]
  if (node === undefined || incarnation === undefined || incarnation.length > 64) {
    throw decodeError('counter has a bad slot')
  }
  if (inc === undefined || dec === undefined || baseInc === undefined || baseDec === undefined)
    throw decodeError('counter totals are not non-negative integers')
  // A base is what a reset saw of the totals: never more than they are.
  if (baseInc > inc || baseDec > dec) throw decodeError('counter base exceeds its total')
  const window = readWindow(r, nodes)
  const name = checkName('counter', counter, limits.maxKeyLength)
  return { counter: name, slot: `${node}/${incarnation}`, inc, dec, baseInc, baseDec, window }
}

/** A counter slot's window: nil for the first one, else [wall, logical, node, expiresAt]. */
function readWindow(r: Reader, nodes: string[]): CounterWindow {
  if (r.nil()) return FIRST_WINDOW
  if (r.array() !== 4) throw decodeError('counter window is not a 4-field tuple')
  const wall = r.count()
  const logical = r.count()
  const node = nodes[r.count() as number]
  const expiresAt = r.count()
  if (wall === undefined || logical === undefined || expiresAt === undefined || node === undefined)
    throw decodeError('counter window has a bad field')
  if (wall > MAX_DEADLINE || expiresAt > MAX_DEADLINE) throw decodeError('counter window lies past the latest date')
  return { wall, logical, node, expiresAt }
}
