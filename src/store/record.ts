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
import { hashKeyRange, type Key, KeyBytes, writeKey } from './key.js'

/**
 * A value as a record takes it: its MessagePack bytes `value[start, end)`, a string (written
 * as MessagePack straight into the record: the most common value, with no buffer of its
 * own), or none for a tombstone.
 */
export type RecordValue = Uint8Array | string | undefined

/** The UTF-8 length of a string value (0 for any other): measured once, by the writer. */
export function textLength(value: RecordValue): number {
  return typeof value === 'string' ? utf8Length(value) : 0
}

/** The bytes a value takes in a record (`textBytes`: its {@link textLength}). */
export function valueLength(value: RecordValue, start: number, end: number, textBytes: number): number {
  return typeof value === 'string' ? strHeaderSize(textBytes) + textBytes : end - start
}

/** The size of a record of a key and a value of these lengths. */
export function recordSizeFor(keyBytes: number, valueBytes: number): number {
  return 4 + varintSize(keyBytes) + keyBytes + varintSize(valueBytes) + valueBytes
}

/** Writes a record's slot and key (of `keyBytes` UTF-8 bytes) at `at`; returns where its value goes. */
export function writeRecordKey(target: Uint8Array, at: number, slot: number, key: Key, keyBytes: number): number {
  target[at] = slot & 0xff
  target[at + 1] = (slot >>> 8) & 0xff
  target[at + 2] = (slot >>> 16) & 0xff
  target[at + 3] = slot >>> 24
  const p = putVarint(target, at + 4, keyBytes)
  writeKey(target, p, key, keyBytes)
  return p + keyBytes
}

/** Writes a record's value at `at`, where {@link writeRecordKey} left off. */
export function writeRecordValue(
  target: Uint8Array,
  at: number,
  value: RecordValue,
  start: number,
  end: number,
  textBytes: number
): void {
  const p = putVarint(target, at, valueLength(value, start, end, textBytes))
  if (typeof value === 'string') writeStr(target, p, value, textBytes)
  else if (value !== undefined) copyBytes(value, start, end, target, p)
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
  const start = keyStartAt(bytes, at)
  return hashKeyRange(bytes, start, start + keyLengthAt(bytes, at))
}

/** Whether the record at `at` has no value bytes: a tombstone's (a MessagePack value is never empty). */
export function isTombstoneAt(bytes: Uint8Array, at: number): boolean {
  return bytes[valueHeaderAt(bytes, at)] === 0
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
