/** Byte arrays: allocation, plain views, and copies of ranges. */

/**
 * A plain Uint8Array over uninitialised memory. Not a Buffer: a Buffer's subarray()
 * goes through Node's own (slower) code, and copies from one cost more.
 */
export function allocBytes(size: number): Uint8Array {
  const b = Buffer.allocUnsafe(size)
  return new Uint8Array(b.buffer, b.byteOffset, size)
}

/** `bytes` as a plain Uint8Array (a view of the same memory) when it is a Buffer or another subclass. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Copies `source[start, end)` to `target` at `at`; short runs by hand (set() costs more than it copies). */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start <= 32) for (let i = start; i < end; i++) target[at++] = source[i]
  else target.set(source.subarray(start, end), at)
}
