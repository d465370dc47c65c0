/**
 * The value grammar's builder: turns bytes already checked by the reader
 * (reader.ts `Reader.value`, when a value was stored or received) into a JS value,
 * objects and arrays frozen. No bounds checks: the bytes were checked once, when
 * they came in. Short strings are built by hand and longer ones by Buffer's native
 * decoder, which for a single small value costs less than a general decoder's set-up.
 */
import { readUtf8 } from '../bytes/utf8.js'
import { decodeError } from '../errors.js'
import type { Json } from './json.js'

/** Where one decode is: made per call, so that no decode sees another's position. */
interface Cursor {
  readonly bytes: Uint8Array
  pos: number
  /** Made when a number of more than one byte is first read. */
  view: DataView | undefined
}

/** The deep-frozen value whose checked bytes start at `start`. */
export function decodeTrusted(bytes: Uint8Array, start = 0): Json {
  return item({ bytes, pos: start, view: undefined })
}

function item(c: Cursor): Json {
  const t = c.bytes[c.pos++]
  if (t < 0x80) return t
  if (t >= 0xe0) return t - 0x100
  if ((t & 0xe0) === 0xa0) return text(c, t & 0x1f)
  if ((t & 0xf0) === 0x90) return list(c, t & 0x0f)
  if ((t & 0xf0) === 0x80) return record(c, t & 0x0f)
  switch (t) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xcc:
      return c.bytes[c.pos++]
    case 0xcd:
      return fixed(c, 2, 'getUint16')
    case 0xce:
      return fixed(c, 4, 'getUint32')
    case 0xd0:
      return fixed(c, 1, 'getInt8')
    case 0xd1:
      return fixed(c, 2, 'getInt16')
    case 0xd2:
      return fixed(c, 4, 'getInt32')
    case 0xca:
      return fixed(c, 4, 'getFloat32')
    case 0xcb:
      return fixed(c, 8, 'getFloat64')
    case 0xd9:
      return text(c, c.bytes[c.pos++])
    case 0xda:
      return text(c, fixed(c, 2, 'getUint16'))
    case 0xdb:
      return text(c, fixed(c, 4, 'getUint32'))
    case 0xdc:
      return list(c, fixed(c, 2, 'getUint16'))
    case 0xdd:
      return list(c, fixed(c, 4, 'getUint32'))
    case 0xde:
      return record(c, fixed(c, 2, 'getUint16'))
    case 0xdf:
      return record(c, fixed(c, 4, 'getUint32'))
    default:
      throw decodeError(`stored value holds MessagePack type 0x${t.toString(16)}`)
  }
}

type Getter = 'getUint16' | 'getUint32' | 'getInt8' | 'getInt16' | 'getInt32' | 'getFloat32' | 'getFloat64'

/** A big-endian number of `width` bytes at the cursor, which moves past it. */
function fixed(c: Cursor, width: number, get: Getter): number {
  c.view ??= new DataView(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength)
  const v = c.view[get](c.pos)
  c.pos += width
  return v
}

function text(c: Cursor, length: number): string {
  const start = c.pos
  c.pos += length
  return readUtf8(c.bytes, start, c.pos)
}

function list(c: Cursor, n: number): Json {
  const out: Json[] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = item(c)
  return Object.freeze(out)
}

function record(c: Cursor, n: number): Json {
  const out: Record<string, Json> = {}
  for (let i = 0; i < n; i++) {
    const key = item(c)
    out[key as string] = item(c)
  }
  return Object.freeze(out)
}
