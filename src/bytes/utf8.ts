/**
 * UTF-8 on plain byte arrays: lengths, writes and reads of strings, with short
 * ASCII strings done by hand (a native call costs more than they do). Used by
 * the store's records and by every MessagePack string.
 */
import { isUtf8 } from 'node:buffer'
import { decodeError } from '../errors.js'

/**
 * Buffer's native UTF-8 methods, which work on any Uint8Array and cost less than
 * TextEncoder/TextDecoder for short strings. They are not documented API: where a
 * Node.js lacks them, the standard encoder and decoder stand in.
 */
interface Utf8 {
  utf8Write(this: Uint8Array, s: string, at: number, length: number): number
  utf8Slice(this: Uint8Array, start: number, end: number): string
}
const builtin = Buffer.prototype as unknown as Partial<Utf8>
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const native: Utf8 =
  typeof builtin.utf8Write === 'function' && typeof builtin.utf8Slice === 'function'
    ? (builtin as Utf8)
    : {
        utf8Write(s, at, length) {
          return encoder.encodeInto(s, this.subarray(at, at + length)).written
        },
        utf8Slice(start, end) {
          return decoder.decode(this.subarray(start, end))
        }
      }

/** UTF-8 length of a string; short ASCII ones without a native call. */
export function utf8Length(s: string): number {
  if (s.length < 64) {
    let i = 0
    while (i < s.length && s.charCodeAt(i) < 0x80) i++
    if (i === s.length) return s.length
  }
  return Buffer.byteLength(s, 'utf8')
}

/** Writes `s` (whose UTF-8 length is `bytes`) at `at`; returns the bytes written. */
export function writeUtf8(target: Uint8Array, s: string, at: number, bytes: number): number {
  if (bytes === s.length && bytes < 64) {
    for (let i = 0; i < bytes; i++) target[at + i] = s.charCodeAt(i)
    return bytes
  }
  return native.utf8Write.call(target, s, at, bytes)
}

/**
 * Writes `s` at `at` without measuring it first, into at most `room` bytes (enough for
 * its longest UTF-8 form, three bytes a UTF-16 unit); returns the bytes written.
 */
export function writeUtf8Unmeasured(target: Uint8Array, s: string, at: number, room: number): number {
  return native.utf8Write.call(target, s, at, room)
}

/** Reads UTF-8 bytes as a string; short ASCII ones without a native call. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  // Up to 12 characters: V8 builds longer concatenations as rope strings, which cost more later.
  if (end - start <= 12) {
    let out = ''
    for (let i = start; i < end; i++) {
      const c = bytes[i]
      if (c >= 0x80) return native.utf8Slice.call(bytes, start, end)
      out += String.fromCharCode(c)
    }
    return out
  }
  return native.utf8Slice.call(bytes, start, end)
}

/**
 * Reads a name (collection, key, counter, peer id) from UTF-8 bytes, refusing bytes that are
 * not UTF-8 (`ERR_DECODE`): decoded with U+FFFD in their place they would name another key
 * than the sender's.
 */
export function readName(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (bytes[i] >= 0x80) {
      if (!isUtf8(bytes.subarray(start, end))) throw decodeError('a name is not valid UTF-8')
      break
    }
  }
  return readUtf8(bytes, start, end)
}
