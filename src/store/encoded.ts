/**
 * Values kept as their MessagePack bytes. A replica stores every value encoded
 * (store/arena.ts, in records), sends it on as those bytes, and receives it as bytes
 * checked without decoding (value/reader.ts); a JS value is made only when
 * something reads it. An entry read from the store or the wire is an
 * {@link EncodedEntry}: its `value` is decoded on first use.
 */

import { writeJson, writeValue } from '../value/check.js'
import { decodeTrusted } from '../value/decode.js'
import type { Json, ValueLimits } from '../value/json.js'
import { checkEncodedSize } from '../value/sizes.js'
import { Writer } from '../value/writer.js'
import { type Key, keyText } from './key.js'
import type { EntryUpdate } from './types.js'

/** Values saved are written one after another into a slab, each kept as a view of it (no copy, no buffer per value). */
const SLAB_BYTES = 64 * 1024
/** Slabs with room that no save is writing to, and how many are kept. */
const idle: Writer[] = []
const MAX_IDLE = 4

/**
 * Checks a value given to save() (see {@link writeJson}) and returns its bytes, in one
 * pass: the replica keeps and sends these, and nothing holds the caller's object. A save
 * takes a slab for itself and gives it back, so one made while another is written (from a
 * getter in the value) takes another slab.
 */
export function encodeChecked(value: unknown, limits: ValueLimits): Uint8Array {
  let slab = idle.pop()
  if (slab === undefined || slab.capacity - slab.length < SLAB_BYTES / 16) slab = new Writer(SLAB_BYTES)
  let bytes: Uint8Array
  try {
    slab.startItem()
    writeJson(value, limits, slab)
    bytes = slab.item()
  } finally {
    // A value that did not fit moved to a buffer of its own: that one is not a slab.
    if (slab.capacity === SLAB_BYTES && idle.length < MAX_IDLE) idle.push(slab)
  }
  checkEncodedSize(bytes.byteLength, limits)
  return bytes
}

/** The bytes of a value (already checked and frozen): the same bytes msgpackr would write, in a buffer of their own. */
export function encodeValue(value: Json): Uint8Array {
  const w = new Writer(256)
  writeValue(value, w)
  return w.since(0).slice()
}

/** The deep-frozen value whose bytes (checked when stored or received) start at `start`. */
export function decodeValue(bytes: Uint8Array, start = 0): Json {
  return decodeTrusted(bytes, start)
}

const UNDECODED = Symbol('undecoded')

/**
 * An entry whose value is held as bytes (`source[start, end)`; none for a
 * tombstone) and decoded on first read. The bytes are a range of a larger
 * buffer (a received frame, an arena page): no view is made unless asked for.
 * Its key may be given as bytes too ({@link rawKey}): made a string when read.
 */
export class EncodedEntry implements EntryUpdate {
  readonly collection: string
  /** The key: a string, or (until read as one) UTF-8 bytes of the frame or record it came from. */
  private heldKey: Key
  readonly wall: number
  readonly logical: number
  readonly node: string
  readonly expiresAt: number
  readonly deleted: boolean
  readonly source: Uint8Array | undefined
  readonly start: number
  readonly end: number
  private decoded: Json | typeof UNDECODED = UNDECODED

  constructor(
    collection: string,
    key: Key,
    wall: number,
    logical: number,
    node: string,
    expiresAt: number,
    deleted: boolean,
    source: Uint8Array | undefined,
    start = 0,
    end = source?.byteLength ?? 0
  ) {
    this.collection = collection
    this.heldKey = key
    this.wall = wall
    this.logical = logical
    this.node = node
    this.expiresAt = expiresAt
    this.deleted = deleted
    this.source = source
    this.start = start
    this.end = end
  }

  get key(): string {
    const key = this.heldKey
    if (typeof key === 'string') return key
    this.heldKey = keyText(key)
    return this.heldKey
  }

  /** The key in whichever form it is held (what the store hashes and compares without a string). */
  get rawKey(): Key {
    return this.heldKey
  }

  get encoded(): Uint8Array | undefined {
    return this.source?.subarray(this.start, this.end)
  }

  /** Bytes of the encoded value (0 for a tombstone). */
  get encodedLength(): number {
    return this.end - this.start
  }

  get value(): Json {
    if (this.decoded === UNDECODED)
      this.decoded = this.source === undefined ? null : decodeValue(this.source, this.start)
    return this.decoded
  }

  /** The plain entry, value decoded (what JSON.stringify and logs show). */
  toJSON(): EntryUpdate {
    const { collection, key, wall, logical, node, expiresAt, deleted, value } = this
    return { collection, key, wall, logical, node, expiresAt, deleted, value }
  }
}

/** The key of an entry in the form it holds it (bytes, for one read from a frame or a record). */
export function keyOfEntry(update: EntryUpdate): Key {
  return update instanceof EncodedEntry ? update.rawKey : update.key
}
