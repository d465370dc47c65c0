/**
 * The MessagePack reader: a cursor over untrusted bytes (a received message, a
 * data file), every read bounds-checked. Its {@link Reader.value} is the value
 * grammar's checker on bytes: it accepts exactly what check.ts accepts of a JS
 * value (nil, booleans, finite numbers, strings, arrays, and maps with string keys
 * other than "__proto__", at most `maxDepth` deep and `maxBytes` as sizes.ts
 * measures), and finds the value's end without building it, so a received value
 * is kept as the bytes it came in (decode.ts builds it when it is read).
 */
import { readName, readUtf8 } from '../bytes/utf8.js'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import type { ValueLimits } from './json.js'
import { checkEncodedSize, headerSize, numberSize, strHeaderSize } from './sizes.js'

/** How deep an item skipped unread may nest. */
const MAX_SKIP_DEPTH = 1024
/** Payload bytes of the fixed-size items only ever skipped: 64-bit integers and fixext. */
const FIXED_LENGTHS: Record<number, number> = { 207: 8, 211: 8, 212: 2, 213: 3, 214: 5, 215: 9, 216: 17 }

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

  /** A non-negative safe integer (any unsigned integer form up to 32 bits, a float64 only when integral); else undefined. */
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

  /** A byte string (bin 8, 16 or 32), as a view of the bytes read; else undefined (the item skipped). */
  bin(): Uint8Array | undefined {
    const t = this.byte()
    const length = t === 0xc4 ? this.byte() : t === 0xc5 ? this.u16() : t === 0xc6 ? this.u32() : undefined
    if (length === undefined) {
      this.pos--
      this.skip()
      return undefined
    }
    this.need(length)
    this.pos += length
    return this.bytes.subarray(this.pos - length, this.pos)
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
    checkEncodedSize(size, limits)
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
    let size = headerSize(n)
    for (let i = 0; i < n; i++) size += this.walk(maxDepth, depth + 1, anything)
    return size
  }

  private walkMap(n: number, maxDepth: number, depth: number, anything: boolean): number {
    if (depth >= maxDepth) throw tooDeep(maxDepth)
    let size = headerSize(n)
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
