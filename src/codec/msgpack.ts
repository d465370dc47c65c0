/**
 * The few MessagePack primitives the hot paths need, on bytes: a writer that
 * can splice a value already encoded (a stored value goes out as the bytes it
 * is kept in), and a reader that checks a value and finds its end without
 * building it. Values are kept encoded in the replica, so a value received
 * from a peer or a file is checked here, copied as bytes, and turned into a JS
 * value only when something reads it. Everything else is msgpackr's.
 *
 * The reader accepts exactly what the value rules accept after a full decode
 * (store/validate.ts): nil, booleans, finite numbers, strings, arrays and maps
 * with string keys other than "__proto__", at most `maxDepth` deep, and at most
 * `maxBytes` as measured there (the shortest form of every header and number).
 */
import { isUtf8 } from 'node:buffer'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import type { Json, ValueLimits } from '../store/validate.js'

const TWO_32 = 0x100000000
/** How deep an item skipped unread may nest. */
const MAX_SKIP_DEPTH = 1024
/** Payload bytes of the fixed-size items only ever skipped: 64-bit integers and fixext. */
const FIXED_LENGTHS: Record<number, number> = { 207: 8, 211: 8, 212: 2, 213: 3, 214: 5, 215: 9, 216: 17 }

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

  /** A JSON value (already checked), encoded as msgpackr encodes it. */
  value(v: Json): void {
    if (typeof v === 'string') this.str(v)
    else if (typeof v === 'number') this.number(v)
    else if (typeof v === 'boolean') this.bool(v)
    else if (v === null) this.nil()
    else if (Array.isArray(v)) {
      this.arrayHeader(v.length)
      for (const item of v) this.value(item)
    } else {
      const keys = Object.keys(v)
      this.mapHeader(keys.length)
      for (const key of keys) {
        this.str(key)
        this.value((v as Record<string, Json>)[key])
      }
    }
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
    const bytes = native.utf8Write.call(this.buf, s, this.pos + guess, most)
    const header = strHeaderSize(bytes)
    if (header !== guess) this.buf.copyWithin(this.pos + header, this.pos + guess, this.pos + guess + bytes)
    writeStrHeader(this.buf, this.pos, bytes)
    this.pos += header + bytes
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

/** Copies `source[start, end)` to `target` at `at`; short runs by hand (set() costs more than it copies). */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start <= 32) for (let i = start; i < end; i++) target[at++] = source[i]
  else target.set(source.subarray(start, end), at)
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
 * not UTF-8: decoded with U+FFFD in their place they would name another key than the sender's.
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

/** Writes `s` (whose UTF-8 length is `bytes`) as a MessagePack string at `at`; returns the position after it. */
export function writeStr(target: Uint8Array, at: number, s: string, bytes: number): number {
  const start = writeStrHeader(target, at, bytes)
  return start + writeUtf8(target, s, start, bytes)
}

/** Writes the header of a string of `bytes` UTF-8 bytes at `at`; returns the position after it. */
function writeStrHeader(target: Uint8Array, at: number, bytes: number): number {
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

/** Size of a string header for `bytes` bytes, in the shortest form. */
export function strHeaderSize(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5
}

function containerHeader(count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5
}

function numberSize(n: number): number {
  if (!Number.isInteger(n)) return 9
  if (n >= 0) return n < 128 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : n < TWO_32 ? 5 : 9
  return n >= -32 ? 1 : n >= -128 ? 2 : n >= -32768 ? 3 : n >= -(2 ** 31) ? 5 : 9
}

/** A cursor over untrusted bytes: every read is bounds-checked and throws `ERR_DECODE`. */
export class Reader {
  readonly bytes: Uint8Array
  pos: number
  private readonly data: DataView
  private readonly end: number
  private last: { start: number; length: number; value: string } | undefined

  constructor(bytes: Uint8Array, pos = 0) {
    this.bytes = bytes
    this.pos = pos
    this.end = bytes.byteLength
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  /** The type byte of the next item, without moving. */
  peek(): number {
    this.need(1)
    return this.bytes[this.pos]
  }

  /** An array header: the element count. */
  array(): number {
    const t = this.byte()
    if ((t & 0xf0) === 0x90) return t & 0x0f
    if (t === 0xdc) return this.u16()
    if (t === 0xdd) return this.u32()
    throw decodeError('expected an array')
  }

  /** A non-negative safe integer (any integer form msgpackr writes, a float64 only when integral); else undefined. */
  count(): number | undefined {
    const t = this.byte()
    if (t < 0x80) return t
    switch (t) {
      case 0xcc:
        return this.byte()
      case 0xcd:
        return this.u16()
      case 0xce:
        return this.u32()
      case 0xcb: {
        this.need(8)
        const v = this.data.getFloat64(this.pos)
        this.pos += 8
        return Number.isSafeInteger(v) && v >= 0 ? v : undefined
      }
      default:
        this.pos--
        this.skip()
        return undefined
    }
  }

  /** A boolean; else undefined. */
  bool(): boolean | undefined {
    const t = this.byte()
    if (t === 0xc2) return false
    if (t === 0xc3) return true
    this.pos--
    this.skip()
    return undefined
  }

  /** Consumes a nil if one is next. */
  nil(): boolean {
    if (this.peek() !== 0xc0) return false
    this.pos++
    return true
  }

  /**
   * A string that often repeats (a collection name in a batch): when its bytes are
   * those of the previous call's, the same string is returned without decoding.
   */
  repeatedStr(): string | undefined {
    const at = this.pos
    const length = this.strLength()
    if (length === undefined) {
      this.skip()
      return undefined
    }
    const start = this.pos
    this.need(length)
    const last = this.last
    if (last !== undefined && last.length === length) {
      let i = 0
      while (i < length && this.bytes[start + i] === this.bytes[last.start + i]) i++
      if (i === length) {
        this.pos += length
        return last.value
      }
    }
    this.pos = at
    const value = this.str() as string
    this.last = { start, length, value }
    return value
  }

  /**
   * A string's bytes, not decoded: returns their length (undefined, the item skipped,
   * when the next item is no string) and moves past them; they start at `pos` minus it.
   */
  strBytes(): number | undefined {
    const length = this.strLength()
    if (length === undefined) {
      this.skip()
      return undefined
    }
    this.need(length)
    this.pos += length
    return length
  }

  /** A name (valid UTF-8: {@link readName}); else undefined (the item skipped). */
  str(): string | undefined {
    const length = this.strBytes()
    return length === undefined ? undefined : readName(this.bytes, this.pos - length, this.pos)
  }

  /**
   * Checks the value that starts here against the value rules and `limits`, and
   * moves past it; returns its size as the value rules measure it. Throws
   * `ERR_DECODE` for malformed bytes or a value the rules refuse, and the value
   * rules' own codes for one too deep or too large.
   */
  value(limits: ValueLimits): number {
    const size = this.walk(limits.maxDepth, 0)
    if (size > limits.maxBytes)
      throw new SharedMemError(
        ErrorCode.VALUE_TOO_LARGE,
        `the value encodes to ${size} bytes; the limit is ${limits.maxBytes}`
      )
    return size
  }

  /** Skips one item of any kind (for a field that is then refused anyway). */
  skip(): void {
    // Bounded like a value, so that no input nests deep enough to exhaust the stack.
    this.walk(MAX_SKIP_DEPTH, 0, true)
  }

  private walk(maxDepth: number, depth: number, anything = false): number {
    const t = this.byte()
    if (t < 0x80 || t >= 0xe0) return 1
    if ((t & 0xe0) === 0xa0) return this.skipStr(t & 0x1f)
    if ((t & 0xf0) === 0x90) return this.walkArray(t & 0x0f, maxDepth, depth, anything)
    if ((t & 0xf0) === 0x80) return this.walkMap(t & 0x0f, maxDepth, depth, anything)
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return 1
      case 0xcc:
        return numberSize(this.byte())
      case 0xd0:
        this.need(1)
        return numberSize(this.data.getInt8(this.pos++))
      case 0xcd:
        return numberSize(this.u16())
      case 0xd1:
        this.need(2)
        this.pos += 2
        return numberSize(this.data.getInt16(this.pos - 2))
      case 0xce:
        return numberSize(this.u32())
      case 0xd2:
        this.need(4)
        this.pos += 4
        return numberSize(this.data.getInt32(this.pos - 4))
      case 0xca:
      case 0xcb: {
        const width = t === 0xca ? 4 : 8
        this.need(width)
        const v = width === 4 ? this.data.getFloat32(this.pos) : this.data.getFloat64(this.pos)
        this.pos += width
        if (!Number.isFinite(v) && !anything) throw decodeError(`a value holds ${v}, which JSON cannot carry`)
        return numberSize(v)
      }
      case 0xd9:
        return this.skipStr(this.byte())
      case 0xda:
        return this.skipStr(this.u16())
      case 0xdb:
        return this.skipStr(this.u32())
      case 0xdc:
        return this.walkArray(this.u16(), maxDepth, depth, anything)
      case 0xdd:
        return this.walkArray(this.u32(), maxDepth, depth, anything)
      case 0xde:
        return this.walkMap(this.u16(), maxDepth, depth, anything)
      case 0xdf:
        return this.walkMap(this.u32(), maxDepth, depth, anything)
      default:
        if (!anything) throw decodeError(`a value holds MessagePack type 0x${t.toString(16)}, which JSON cannot carry`)
        return this.skipOther(t)
    }
  }

  /** Binary, extension and 64-bit integer items: only ever skipped. */
  private skipOther(t: number): number {
    let length = FIXED_LENGTHS[t]
    if (length === undefined) {
      if (t === 0xc4 || t === 0xc7) length = this.byte() + (t === 0xc7 ? 1 : 0)
      else if (t === 0xc5 || t === 0xc8) length = this.u16() + (t === 0xc8 ? 1 : 0)
      else if (t === 0xc6 || t === 0xc9) length = this.u32() + (t === 0xc9 ? 1 : 0)
      else throw decodeError(`MessagePack type 0x${t.toString(16)} does not exist`)
    }
    this.need(length)
    this.pos += length
    return 1 + length
  }

  private walkArray(n: number, maxDepth: number, depth: number, anything: boolean): number {
    if (depth >= maxDepth) throw tooDeep(maxDepth)
    let size = containerHeader(n)
    for (let i = 0; i < n; i++) size += this.walk(maxDepth, depth + 1, anything)
    return size
  }

  private walkMap(n: number, maxDepth: number, depth: number, anything: boolean): number {
    if (depth >= maxDepth) throw tooDeep(maxDepth)
    let size = containerHeader(n)
    for (let i = 0; i < n; i++) {
      if (anything) size += this.walk(maxDepth, depth + 1, true)
      else {
        const length = this.strLength()
        if (length === undefined) throw decodeError('a value holds a map key that is not a string')
        this.need(length)
        if (length === 9 && readUtf8(this.bytes, this.pos, this.pos + 9) === '__proto__')
          throw decodeError('a value holds a "__proto__" key, which is not allowed')
        this.pos += length
        size += strHeaderSize(length) + length
      }
      size += this.walk(maxDepth, depth + 1, anything)
    }
    return size
  }

  private strLength(): number | undefined {
    const t = this.byte()
    if ((t & 0xe0) === 0xa0) return t & 0x1f
    if (t === 0xd9) return this.byte()
    if (t === 0xda) return this.u16()
    if (t === 0xdb) return this.u32()
    this.pos--
    return undefined
  }

  private skipStr(length: number): number {
    this.need(length)
    this.pos += length
    return strHeaderSize(length) + length
  }

  private byte(): number {
    this.need(1)
    return this.bytes[this.pos++]
  }

  private u16(): number {
    this.need(2)
    const v = this.data.getUint16(this.pos)
    this.pos += 2
    return v
  }

  private u32(): number {
    this.need(4)
    const v = this.data.getUint32(this.pos)
    this.pos += 4
    return v
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw decodeError('message ends in the middle of an item')
  }
}

function tooDeep(maxDepth: number): SharedMemError {
  return new SharedMemError(ErrorCode.VALUE_TOO_DEEP, `a value nests deeper than ${maxDepth} levels`)
}

/**
 * Decodes one value from bytes already checked by {@link Reader.value} (stored or just
 * received): objects and arrays come out frozen. Short strings are built by hand and
 * longer ones by Buffer's native decoder, which for a single small value costs less than
 * msgpackr's set-up.
 */
export function decodeTrusted(bytes: Uint8Array, start: number): Json {
  cursor.bytes = bytes
  const view = cursor.view
  cursor.view =
    view?.buffer === bytes.buffer && view.byteOffset === bytes.byteOffset && view.byteLength === bytes.byteLength
      ? view
      : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  cursor.pos = start
  return item()
}

const cursor: { bytes: Uint8Array; view: DataView | undefined; pos: number } = {
  bytes: new Uint8Array(0),
  view: undefined,
  pos: 0
}

function item(): Json {
  const { bytes } = cursor
  const t = bytes[cursor.pos++]
  if (t < 0x80) return t
  if (t >= 0xe0) return t - 0x100
  if ((t & 0xe0) === 0xa0) return text(t & 0x1f)
  if ((t & 0xf0) === 0x90) return list(t & 0x0f)
  if ((t & 0xf0) === 0x80) return record(t & 0x0f)
  switch (t) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xcc:
      return bytes[cursor.pos++]
    case 0xcd:
      return fixed(2, 'getUint16')
    case 0xce:
      return fixed(4, 'getUint32')
    case 0xd0:
      return fixed(1, 'getInt8')
    case 0xd1:
      return fixed(2, 'getInt16')
    case 0xd2:
      return fixed(4, 'getInt32')
    case 0xca:
      return fixed(4, 'getFloat32')
    case 0xcb:
      return fixed(8, 'getFloat64')
    case 0xd9:
      return text(bytes[cursor.pos++])
    case 0xda:
      return text(fixed(2, 'getUint16'))
    case 0xdb:
      return text(fixed(4, 'getUint32'))
    case 0xdc:
      return list(fixed(2, 'getUint16'))
    case 0xdd:
      return list(fixed(4, 'getUint32'))
    case 0xde:
      return record(fixed(2, 'getUint16'))
    case 0xdf:
      return record(fixed(4, 'getUint32'))
    default:
      throw decodeError(`stored value holds MessagePack type 0x${t.toString(16)}`)
  }
}

type Getter = 'getUint16' | 'getUint32' | 'getInt8' | 'getInt16' | 'getInt32' | 'getFloat32' | 'getFloat64'

/** A big-endian number of `width` bytes at the cursor, which moves past it. */
function fixed(width: number, get: Getter): number {
  const v = (cursor.view as DataView)[get](cursor.pos)
  cursor.pos += width
  return v
}

function text(length: number): string {
  const start = cursor.pos
  cursor.pos += length
  return readUtf8(cursor.bytes, start, cursor.pos)
}

function list(n: number): Json {
  const out: Json[] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = item()
  return Object.freeze(out)
}

function record(n: number): Json {
  const out: Record<string, Json> = {}
  for (let i = 0; i < n; i++) {
    const key = item()
    out[key as string] = item()
  }
  return Object.freeze(out)
}
