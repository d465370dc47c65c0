/**
 * The size table of the value grammar: how many bytes each item takes in the
 * shortest MessagePack form (the form writer.ts writes and msgpackr writes). The
 * checker measures a JS value with it (check.ts), the reader a received one
 * (reader.ts), so that every peer measures a value alike.
 */
import { ErrorCode, SharedMemError } from '../errors.js'
import type { ValueLimits } from './json.js'

const TWO_32 = 0x100000000

/** A number: integers of up to 32 bits in their shortest form, anything else a float64. */
export function numberSize(n: number): number {
  if (!Number.isInteger(n)) return 9
  if (n >= 0) return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < TWO_32 ? 5 : 9
  return n >= -32 ? 1 : n >= -0x80 ? 2 : n >= -0x8000 ? 3 : n >= -0x80000000 ? 5 : 9
}

/** The header of a string of `bytes` UTF-8 bytes. */
export function strHeaderSize(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5
}

/** A whole string: header and UTF-8 bytes. */
export function stringSize(s: string): number {
  const bytes = s.length < 32 && isAscii(s) ? s.length : Buffer.byteLength(s, 'utf8')
  return strHeaderSize(bytes) + bytes
}

/** The header of an array or map of `count` items or pairs. */
export function headerSize(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5
}

/** Throws `ERR_VALUE_TOO_LARGE` when a value of `size` bytes (as measured here) exceeds `maxBytes`. */
export function checkEncodedSize(size: number, limits: ValueLimits): void {
  if (size > limits.maxBytes) {
    throw new SharedMemError(
      ErrorCode.VALUE_TOO_LARGE,
      `the value encodes to ${size} bytes; the limit is ${limits.maxBytes}`
    )
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}
