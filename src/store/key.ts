/**
 * Keys as the store meets them: a string (an API call, an entry object) or the
 * UTF-8 bytes of a received message or of a stored record, read where they lie
 * so that merging a received batch makes no key string. Both forms hash, compare
 * and write alike: by the key's characters.
 */
import { randomBytes } from 'node:crypto'
import { copyBytes } from '../bytes/copy.js'
import { readUtf8, utf8Length, writeUtf8 } from '../bytes/utf8.js'

/** A key given as its (valid) UTF-8 bytes `bytes[start, end)`. */
export class KeyBytes {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number
  ) {}

  toString(): string {
    return readUtf8(this.bytes, this.start, this.end)
  }
}

export type Key = string | KeyBytes

/** A random seed per process, so that nobody can choose keys that all land on one index position. */
const SEED = randomBytes(4).readUInt32LE(0)

/** The 32-bit hash a key is indexed by, over its characters whichever form it comes in. */
export function hashKey(key: Key): number {
  if (typeof key !== 'string') return hashKeyRange(key.bytes, key.start, key.end)
  let h = SEED
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x9e3779b1)
  return finish(h)
}

/** {@link hashKey} of the key whose UTF-8 bytes are `bytes[start, end)` (what a record holds: no object made). */
export function hashKeyRange(bytes: Uint8Array, start: number, end: number): number {
  let h = SEED
  for (let i = start; i < end; i++) {
    // Beyond ASCII, bytes are not characters: hash the string.
    if (bytes[i] >= 0x80) return hashKey(readUtf8(bytes, start, end))
    h = Math.imul(h ^ bytes[i], 0x9e3779b1)
  }
  return finish(h)
}

function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** The key as a string (decoded from its bytes when given as bytes). */
export function keyText(key: Key): string {
  return typeof key === 'string' ? key : key.toString()
}

/** The UTF-8 length of a key. */
export function keyLength(key: Key): number {
  return typeof key === 'string' ? utf8Length(key) : key.end - key.start
}

/** Writes a key's UTF-8 bytes (`length` of them, from {@link keyLength}) at `at`. */
export function writeKey(target: Uint8Array, at: number, key: Key, length: number): void {
  if (typeof key === 'string') writeUtf8(target, key, at, length)
  else copyBytes(key.bytes, key.start, key.end, target, at)
}

/** Whether `key` is the key whose UTF-8 bytes are `bytes[start, start + length)`. */
export function keyEquals(key: Key, bytes: Uint8Array, start: number, length: number): boolean {
  if (typeof key !== 'string') {
    if (key.end - key.start !== length) return false
    const from = key.bytes
    const offset = key.start - start
    for (let i = start; i < start + length; i++) if (bytes[i] !== from[i + offset]) return false
    return true
  }
  // A string of n characters has at least n UTF-8 bytes, and exactly n only when every character
  // is ASCII: then each byte is its character. A character from U+0080 to U+00FF is no byte of its
  // own ('Ã©' is not the bytes C3 A9 of 'é'), so it never matches one.
  if (length < key.length) return false
  if (length === key.length) {
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i)
      if (c >= 0x80 || c !== bytes[start + i]) return false
    }
    return true
  }
  return readUtf8(bytes, start, start + length) === key
}
