import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { ErrorCode } from '../../src/errors.js'
import { decodeValue } from '../../src/store/encoded.js'
import { encodedSize, freezeJson, writeValue } from '../../src/value/check.js'
import { Reader } from '../../src/value/reader.js'
import { Writer } from '../../src/value/writer.js'
import { acceptedJson } from '../fixtures/arbitraries.js'
import { pack, unpack } from '../fixtures/msgpack.js'

const lim = (maxDepth: number, maxBytes = Number.POSITIVE_INFINITY) => ({ maxDepth, maxBytes })
const code = (c: string) => expect.objectContaining({ code: c })
const check = (bytes: Uint8Array, maxDepth = 64, maxBytes = Number.POSITIVE_INFINITY) => {
  const r = new Reader(bytes)
  const size = r.value(lim(maxDepth, maxBytes))
  expect(r.done).toBe(true)
  return size
}

describe('value bytes', () => {
  it('measures an encoded value as the value rules do, and decodes it back frozen', () => {
    fc.assert(
      fc.property(acceptedJson(6), (value) => {
        const bytes = pack(value)
        expect(check(bytes)).toBe(encodedSize(freezeJson(structuredClone(value), lim(64)).value))
        const back = decodeValue(bytes)
        expect(back).toEqual(value)
        if (typeof back === 'object' && back !== null) expect(Object.isFrozen(back)).toBe(true)
      }),
      { numRuns: 300 }
    )
  })

  it('encodes any accepted value to the very bytes the reference encoder writes', () => {
    fc.assert(
      fc.property(acceptedJson(6), fc.double(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), (value, d, i) => {
        for (const v of [value, Number.isFinite(d) ? d : 0, i]) {
          const w = new Writer(4)
          writeValue(v, w)
          expect(Buffer.from(w.finish())).toEqual(Buffer.from(pack(v)))
        }
      }),
      { numRuns: 300 }
    )
  })

  it('refuses what a full decode would refuse, with the same codes', () => {
    const refused: Array<[string, Uint8Array]> = [
      ['binary', Uint8Array.of(0xc4, 1, 0)],
      ['an extension (a timestamp)', pack(new Date(0))],
      ['a 64-bit integer', Uint8Array.of(0xcf, 0, 0, 0, 0, 0, 0, 0, 1)],
      ['NaN', Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0)],
      ['a map with a number key', Uint8Array.of(0x81, 0x01, 0x02)],
      ['a "__proto__" key', Uint8Array.of(0x81, 0xa9, ...Buffer.from('__proto__'), 0xc0)],
      ['the unused type 0xc1', Uint8Array.of(0xc1)],
      ['a truncated string', Uint8Array.of(0xa5, 0x61)],
      ['a truncated array', Uint8Array.of(0x93, 1, 2)]
    ]
    for (const [name, bytes] of refused) {
      expect(() => check(bytes), name).toThrowError(code(ErrorCode.DECODE))
    }
    const deep = pack([[[[1]]]])
    expect(check(deep, 4)).toBeGreaterThan(0)
    expect(() => check(deep, 3)).toThrowError(code(ErrorCode.VALUE_TOO_DEEP))
    expect(() => check(pack('x'.repeat(100)), 64, 100)).toThrowError(code(ErrorCode.VALUE_TOO_LARGE))
  })

  it('never throws anything but its typed errors on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          new Reader(bytes).value(lim(8, 1000))
        } catch (err) {
          expect([ErrorCode.DECODE, ErrorCode.VALUE_TOO_DEEP, ErrorCode.VALUE_TOO_LARGE]).toContain(
            (err as { code?: string }).code
          )
        }
      }),
      { numRuns: 2000 }
    )
  })

  it('writes long strings with the header their UTF-8 length needs, as the reference encoder does', () => {
    const boundaries = [
      'x'.repeat(64),
      'x'.repeat(255),
      'x'.repeat(256),
      `${'é'.repeat(127)}x`, // 255 bytes from 128 characters
      'é'.repeat(128), // 256 bytes: a wider header than its length suggests
      'x'.repeat(65535),
      'é'.repeat(32768), // 65,536 bytes from 32,768 characters
      '🔑'.repeat(40)
    ]
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...boundaries), fc.string({ unit: 'binary', minLength: 64, maxLength: 400 })),
        (text) => {
          const w = new Writer(4)
          w.str(text)
          expect(Buffer.from(w.finish()).equals(pack(text))).toBe(true)
        }
      ),
      { numRuns: 300 }
    )
  })

  it('moves only the current item when it outgrows the buffer, leaving earlier views as they were', () => {
    const w = new Writer(4096)
    const head = 'f'.repeat(3000)
    w.startItem()
    w.str(head)
    const first = w.item()
    w.startItem()
    const long = 'x'.repeat(5000)
    w.str(long)
    const second = w.item()
    expect(unpack(first)).toBe(head)
    expect(unpack(second)).toBe(long)
    // Sized for the item alone, not for everything written before it too.
    expect(w.capacity).toBeLessThan(first.byteLength + second.byteLength)
    w.startItem()
    w.uint(7)
    expect(unpack(w.item())).toBe(7)
    expect(unpack(first)).toBe(head)
  })

  it('writes integers and strings that the reference decoder reads back, splicing encoded values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.maxSafeNat(), fc.string({ unit: 'binary', maxLength: 300 }), acceptedJson(3)), {
          maxLength: 40
        }),
        (items) => {
          const w = new Writer(8)
          w.arrayHeader(items.length)
          for (const item of items) {
            if (typeof item === 'number' && Number.isSafeInteger(item) && item >= 0) w.uint(item)
            else if (typeof item === 'string') w.str(item)
            else w.raw(pack(item))
          }
          expect(unpack(w.finish())).toEqual(items)
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe('UTF-8 without Buffer internals', () => {
  it('falls back to TextEncoder and TextDecoder where Node.js lacks them', async () => {
    const proto = Buffer.prototype as unknown as Record<string, unknown>
    const saved = { utf8Write: proto.utf8Write, utf8Slice: proto.utf8Slice }
    delete proto.utf8Write
    delete proto.utf8Slice
    expect([proto.utf8Write, proto.utf8Slice]).toEqual([undefined, undefined])
    try {
      vi.resetModules()
      const fresh = await import('../../src/value/writer.js')
      const utf8 = await import('../../src/bytes/utf8.js')
      const text = `ключ-${'é'.repeat(40)}-🔑`
      const w = new fresh.Writer(4)
      w.str(text)
      const bytes = w.finish()
      expect(unpack(bytes)).toBe(text)
      expect(utf8.readUtf8(bytes, bytes.byteLength - utf8.utf8Length(text), bytes.byteLength)).toBe(text)
    } finally {
      Object.assign(proto, saved)
      vi.resetModules()
    }
  })
})
