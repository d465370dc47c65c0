/**
 * Unsigned LEB128 varints (7 bits a byte, low bits first), as the store's records
 * frame their key and value. Always written in the shortest form, so a varint's
 * size follows from its value: a reader finds the bytes after one with
 * `at + varintSize(value)`, and no pair is returned.
 */

/** Bytes of `n` as a varint. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5
}

/** Writes `n` as a varint at `at`; returns the position after it. */
export function putVarint(target: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    target[at++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  target[at++] = n
  return at
}

/** The value of the varint at `at` (written by {@link putVarint}; it ends at `at + varintSize(value)`). */
export function readVarint(bytes: Uint8Array, at: number): number {
  let n = 0
  let shift = 1
  for (;;) {
    const b = bytes[at++]
    n += (b & 0x7f) * shift
    if (b < 0x80) return n
    shift *= 128
  }
}
