/**
 * The MessagePack writer: a growable buffer written front to back, in the
 * shortest form of every item (the forms sizes.ts measures, as msgpackr writes
 * them). It can splice bytes that already are an item, so a stored value goes
 * out as the bytes it is kept in. A JS value is written by the checker
 * (check.ts `writeJson`, `writeValue`), which calls the primitives here.
 *
 * Why not msgpackr for values: a msgpackr call per value costs more than the
 * work (a value is packed on every save and unpacked on every read), and with
 * this writer and reader.ts a replica keeps values as bytes, which holds far less
 * memory than JS values (the figures: docs/benchmarks.md, "Figures behind source
 * comments"). Every message is written with it too (src/codec/), so the wire
 * format needs no MessagePack library.
 */
import { allocBytes, copyBytes } from '../bytes/copy.js'
import { utf8Length, writeUtf8, writeUtf8Unmeasured } from '../bytes/utf8.js'
import { strHeaderSize } from './sizes.js'

const TWO_32 = 0x100000000

/**
 * A growable buffer written front to back. What it has written stays as it is when it
 * grows (into a new buffer), so views of it taken with {@link since} stay valid.
 */
export class Writer {
  private buf: Uint8Array
  private view: DataView
  private pos = 0
  /** Where the current item began ({@link startItem}): growing moves only the bytes from here on. */
  private floor = 0

  constructor(size = 1024) {
    this.buf = allocBytes(Math.max(size, 16))
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  }

  /** The bytes written; a copy when most of the buffer went unused. */
  finish(): Uint8Array {
    const out = this.buf.subarray(0, this.pos)
    return this.pos * 2 < this.buf.byteLength ? out.slice() : out
  }

  /** Bytes the buffer holds before it must grow. */
  get capacity(): number {
    return this.buf.byteLength
  }

  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc)
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde)
  }

  /** A non-negative safe integer, in its shortest form; above 32 bits as a float64, as msgpackr writes it. */
  uint(n: number): void {
    this.ensure(9)
    if (n < 0x80) this.buf[this.pos++] = n
    else if (n < 0x100) {
      this.buf[this.pos++] = 0xcc
      this.buf[this.pos++] = n
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xcd
      this.view.setUint16(this.pos, n)
      this.pos += 2
    } else if (n < TWO_32) {
      this.buf[this.pos++] = 0xce
      this.view.setUint32(this.pos, n)
      this.pos += 4
    } else {
      this.buf[this.pos++] = 0xcb
      this.view.setFloat64(this.pos, n)
      this.pos += 8
    }
  }

  /** Any number, in the shortest form msgpackr writes (integers of more than 32 bits, and fractions, as float64). */
  number(n: number): void {
    if (n >= 0 && Number.isInteger(n)) {
      this.uint(n)
      return
    }
    this.ensure(9)
    if (Number.isInteger(n) && n >= -0x80000000) {
      if (n >= -32) this.buf[this.pos++] = 0x100 + n
      else if (n >= -0x80) {
        this.buf[this.pos++] = 0xd0
        this.buf[this.pos++] = n + 0x100
      } else if (n >= -0x8000) {
        this.buf[this.pos++] = 0xd1
        this.view.setInt16(this.pos, n)
        this.pos += 2
      } else {
        this.buf[this.pos++] = 0xd2
        this.view.setInt32(this.pos, n)
        this.pos += 4
      }
      return
    }
    this.buf[this.pos++] = 0xcb
    this.view.setFloat64(this.pos, n)
    this.pos += 8
  }

  /** The bytes written since `start`, as a view of this writer's buffer (valid until it next writes). */
  since(start: number): Uint8Array {
    return this.buf.subarray(start, this.pos)
  }

  /**
   * Starts an item that {@link item} returns: if the buffer must grow meanwhile, only the item's
   * bytes move to the new buffer (sized for it), and what was written before stays where it is.
   */
  startItem(): void {
    this.floor = this.pos
  }

  /** The bytes written since {@link startItem}, as a view (which later writes leave as it is). */
  item(): Uint8Array {
    return this.buf.subarray(this.floor, this.pos)
  }

  /** Forgets what was written (the buffer is kept for the next use). */
  reset(): void {
    this.pos = 0
  }

  bool(b: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = b ? 0xc3 : 0xc2
  }

  nil(): void {
    this.ensure(1)
    this.buf[this.pos++] = 0xc0
  }

  str(s: string): void {
    // A longer string is written without measuring it first (that costs as much as writing it):
    // after a header sized for all-ASCII text, moved along when the text takes more bytes. Only
    // where the room for its longest UTF-8 form is there already: a buffer is not grown for it.
    const most = s.length * 3
    if (s.length < 64 || this.pos + most + 5 > this.buf.byteLength) {
      const bytes = utf8Length(s)
      this.ensure(bytes + 5)
      this.pos = writeStr(this.buf, this.pos, s, bytes)
      return
    }
    const guess = strHeaderSize(s.length)
    const bytes = writeUtf8Unmeasured(this.buf, s, this.pos + guess, most)
    const header = strHeaderSize(bytes)
    if (header !== guess) this.buf.copyWithin(this.pos + header, this.pos + guess, this.pos + guess + bytes)
    writeStrHeader(this.buf, this.pos, bytes)
    this.pos += header + bytes
  }

  /** A byte string, under the shortest bin header its length takes. */
  bin(bytes: Uint8Array): void {
    const n = bytes.byteLength
    this.ensure(n + 5)
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4
      this.buf[this.pos++] = n
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xc5
      this.view.setUint16(this.pos, n)
      this.pos += 2
    } else {
      this.buf[this.pos++] = 0xc6
      this.view.setUint32(this.pos, n)
      this.pos += 4
    }
    copyBytes(bytes, 0, n, this.buf, this.pos)
    this.pos += n
  }

  /** `source[start, end)`, which already is one MessagePack item. */
  range(source: Uint8Array, start: number, end: number): void {
    const n = end - start
    this.ensure(n)
    copyBytes(source, start, end, this.buf, this.pos)
    this.pos += n
  }

  /** A string whose UTF-8 bytes are `source[start, start + length)`. */
  strBytes(source: Uint8Array, start: number, length: number): void {
    this.ensure(length + 5)
    this.pos = writeStrHeader(this.buf, this.pos, length)
    copyBytes(source, start, start + length, this.buf, this.pos)
    this.pos += length
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos
  }

  /** Bytes that already are one MessagePack item. */
  raw(bytes: Uint8Array): void {
    this.range(bytes, 0, bytes.byteLength)
  }

  /** A container header: `fix | n` below 16, else `wide` (16-bit count) or `wide + 1` (32-bit). */
  private header(n: number, fix: number, wide: number): void {
    this.ensure(5)
    if (n < 16) this.buf[this.pos++] = fix | n
    else if (n < 0x10000) {
      this.buf[this.pos++] = wide
      this.view.setUint16(this.pos, n)
      this.pos += 2
    } else {
      this.buf[this.pos++] = wide + 1
      this.view.setUint32(this.pos, n)
      this.pos += 4
    }
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return
    const keep = this.pos - this.floor
    const next = allocBytes(Math.max(this.floor === 0 ? this.buf.byteLength * 2 : 0, keep * 2, keep + n))
    next.set(this.buf.subarray(this.floor, this.pos))
    this.buf = next
    this.pos = keep
    this.floor = 0
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }
}

/** Writes `s` (whose UTF-8 length is `bytes`) as a MessagePack string at `at`; returns the position after it. */
export function writeStr(target: Uint8Array, at: number, s: string, bytes: number): number {
  const start = writeStrHeader(target, at, bytes)
  return start + writeUtf8(target, s, start, bytes)
}

/** Writes the header of a string of `bytes` UTF-8 bytes at `at`; returns the position after it. */
export function writeStrHeader(target: Uint8Array, at: number, bytes: number): number {
  if (bytes < 32) target[at++] = 0xa0 | bytes
  else if (bytes < 0x100) {
    target[at++] = 0xd9
    target[at++] = bytes
  } else if (bytes < 0x10000) {
    target[at++] = 0xda
    target[at++] = bytes >>> 8
    target[at++] = bytes & 0xff
  } else {
    target[at++] = 0xdb
    target[at++] = bytes >>> 24
    target[at++] = (bytes >>> 16) & 0xff
    target[at++] = (bytes >>> 8) & 0xff
    target[at++] = bytes & 0xff
  }
  return at
}
