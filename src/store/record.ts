/**
 * The record an arena keeps for one entry: the slot it belongs to (4 bytes,
 * little-endian: compaction finds a record's slot from the record alone), then
 * the key and the value, each as a varint length and its bytes (UTF-8, and
 * MessagePack; no value bytes for a tombstone).
 */

import { copyBytes } from '../bytes/copy.js'
import { utf8Length } from '../bytes/utf8.js'
import { putVarint, readVarint, varintSize } from '../bytes/varint.js'
import { strHeaderSize } from '../value/sizes.js'
import { writeStr } from '../value/writer.js'
import { hashKey, type Key, KeyBytes, keyLength, writeKey } from './key.js'

/**
 * A value as a record takes it: its MessagePack bytes `value[start, end)`, a string
 * (written as MessagePack straight into the record: the most common value, with no
 * buffer of its own), or none for a tombstone.
 */
export interface RecordValue {
  readonly value: Uint8Array | string | undefined
  readonly start: number
  readonly end: number
}

/** A tombstone's record value. */
export const NO_VALUE: RecordValue = { value: undefined, start: 0, end: 0 }

/** The record of `slot`, `key` and `value` as it will be written: its size, and how to write it. */
export class RecordPlan {
  readonly size: number
  private readonly keyBytes: number
  private readonly valueBytes: number
  private readonly textBytes: number

  constructor(
    private readonly slot: number,
    private readonly key: Key,
    private readonly value: RecordValue
  ) {
    this.keyBytes = keyLength(key)
    const v = value.value
    this.textBytes = typeof v === 'string' ? utf8Length(v) : 0
    this.valueBytes = typeof v === 'string' ? strHeaderSize(this.textBytes) + this.textBytes : value.end - value.start
    this.size = 4 + varintSize(this.keyBytes) + this.keyBytes + varintSize(this.valueBytes) + this.valueBytes
  }

  /** Writes the record at `at` (with {@link size} bytes of room). */
  writeTo(target: Uint8Array, at: number): void {
    const slot = this.slot
    target[at] = slot & 0xff
    target[at + 1] = (slot >>> 8) & 0xff
    target[at + 2] = (slot >>> 16) & 0xff
    target[at + 3] = slot >>> 24
    let p = putVarint(target, at + 4, this.keyBytes)
    writeKey(target, p, this.key, this.keyBytes)
    p = putVarint(target, p + this.keyBytes, this.valueBytes)
    const { value, start, end } = this.value
    if (typeof value === 'string') writeStr(target, p, value, this.textBytes)
    else if (value !== undefined) copyBytes(value, start, end, target, p)
  }
}

/** The slot a record at `at` was written for. */
export function recordSlot(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
}

/** The UTF-8 length of the key of the record at `at`. */
export function keyLengthAt(bytes: Uint8Array, at: number): number {
  return readVarint(bytes, at + 4)
}

/** Where the key bytes of the record at `at` start. */
export function keyStartAt(bytes: Uint8Array, at: number): number {
  // A key's length is one byte below 128.
  return bytes[at + 4] < 0x80 ? at + 5 : at + 4 + varintSize(readVarint(bytes, at + 4))
}

/** The key of the record at `at`, as bytes of the record. */
export function keyAt(bytes: Uint8Array, at: number): KeyBytes {
  const start = keyStartAt(bytes, at)
  return new KeyBytes(bytes, start, start + keyLengthAt(bytes, at))
}

/** The {@link hashKey} of the key of the record at `at`. */
export function keyHashAt(bytes: Uint8Array, at: number): number {
  return hashKey(keyAt(bytes, at))
}

/** Where the value's varint length of the record at `at` lies. */
function valueHeaderAt(bytes: Uint8Array, at: number): number {
  return keyStartAt(bytes, at) + keyLengthAt(bytes, at)
}

/** Where the value bytes of the record at `at` start. */
export function valueStartAt(bytes: Uint8Array, at: number): number {
  const header = valueHeaderAt(bytes, at)
  return header + varintSize(readVarint(bytes, header))
}

/** Where the value bytes of the record at `at` end (where they start, for a tombstone). */
export function valueEndAt(bytes: Uint8Array, at: number): number {
  const header = valueHeaderAt(bytes, at)
  const length = readVarint(bytes, header)
  return header + varintSize(length) + length
}

/** The size of the record at `at`. */
export function recordSize(bytes: Uint8Array, at: number): number {
  return valueEndAt(bytes, at) - at
}
