import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/errors.js'
import { decodeValue, encodeChecked } from '../../src/store/encoded.js'
import { checkName } from '../../src/store/validate.js'
import { encodedSize, freezeJson } from '../../src/value/check.js'
import type { Json } from '../../src/value/json.js'
import { acceptedJson } from '../fixtures/arbitraries.js'
import { pack } from '../fixtures/msgpack.js'

const code = (c: string) => expect.objectContaining({ code: c })
const lim = (maxDepth: number, maxBytes = Number.POSITIVE_INFINITY) => ({ maxDepth, maxBytes })

describe('value validation', () => {
  it('checks and encodes a saved value in one pass, leaving it as it was', () => {
    const input = { a: [1, { b: 'x' }], n: null, t: true }
    const bytes = encodeChecked(input, lim(64))
    expect(Buffer.from(bytes).equals(pack(input))).toBe(true)
    expect(Object.isFrozen(input)).toBe(false)
    const out = decodeValue(bytes) as { a: [number, { b: string }] }
    expect(out).toEqual(input)
    expect(Object.isFrozen(out.a[1])).toBe(true)
  })

  it('keeps every value it returned intact across slabs, large values and refusals', () => {
    const values: Json[] = []
    const encoded: Uint8Array[] = []
    const add = (v: Json) => {
      values.push(v)
      encoded.push(encodeChecked(v, lim(64, 300_000)))
    }
    for (let i = 0; i < 3000; i++) add({ i, pad: 'p'.repeat(i % 97) }) // several 64 KiB slabs
    add({ big: 'b'.repeat(200_000) }) // larger than a slab: a buffer of its own
    add('é'.repeat(40_000)) // 80,000 bytes of UTF-8 from 40,000 characters
    expect(() => encodeChecked({ huge: 'h'.repeat(400_000) }, lim(64, 300_000))).toThrowError(
      code(ErrorCode.VALUE_TOO_LARGE)
    )
    for (let i = 0; i < 50; i++) add([i, 'after'])
    for (const [i, bytes] of encoded.entries()) {
      expect(Buffer.from(bytes).equals(pack(values[i]))).toBe(true)
    }
  })

  it('encodes a value saved from inside a getter of the value being encoded', () => {
    const inner = { k: 'inner' }
    const outer = {
      get a() {
        return Buffer.from(encodeChecked(inner, lim(64))).equals(pack(inner))
      },
      b: 2
    }
    expect(decodeValue(encodeChecked(outer, lim(64)))).toEqual({ a: true, b: 2 })
  })

  it.each([
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['undefined', undefined],
    ['a bigint', 10n],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a Date', new Date()],
    ['a Map', new Map()],
    ['a nested undefined', { a: { b: undefined } }],
    ['a __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}')]
  ])('rejects %s with ERR_INVALID_VALUE', (_name, value) => {
    expect(() => encodeChecked(value, lim(64))).toThrowError(code(ErrorCode.INVALID_VALUE))
  })

  it('freezeJson freezes a fresh value in place, with the same checks', () => {
    const fresh = { a: [1, { b: 'x' }] }
    const out = freezeJson(fresh, lim(64)).value as { a: [number, { b: string }] }
    expect(out).toBe(fresh)
    expect(Object.isFrozen(fresh.a[1])).toBe(true)
    expect(() => freezeJson({ a: { b: undefined } }, lim(64))).toThrowError(code(ErrorCode.INVALID_VALUE))
    expect(() => freezeJson([[[1]]], lim(2))).toThrowError(code(ErrorCode.VALUE_TOO_DEEP))
  })

  it('rejects cycles', () => {
    const a: Record<string, unknown> = {}
    a.self = a
    expect(() => encodeChecked(a, lim(64))).toThrowError(code(ErrorCode.INVALID_VALUE))
  })

  it('accepts shared (non-cyclic) references', () => {
    const shared = { x: 1 }
    expect(decodeValue(encodeChecked({ a: shared, b: shared }, lim(64)))).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })

  it('rejects nesting beyond the limit with ERR_VALUE_TOO_DEEP', () => {
    let deep: unknown = 1
    for (let i = 0; i < 10; i++) deep = [deep]
    expect(() => encodeChecked(deep, lim(10))).not.toThrow()
    expect(() => encodeChecked([deep], lim(10))).toThrowError(code(ErrorCode.VALUE_TOO_DEEP))
  })

  it('checks names', () => {
    expect(checkName('key', 'k', 5)).toBe('k')
    expect(() => checkName('key', '', 5)).toThrowError(code(ErrorCode.INVALID_NAME))
    expect(() => checkName('key', 'toolong', 5)).toThrowError(code(ErrorCode.INVALID_NAME))
    expect(() => checkName('key', 3, 5)).toThrowError(code(ErrorCode.INVALID_ARGUMENT))
    expect(() => checkName('key', undefined, 5)).toThrowError(code(ErrorCode.INVALID_ARGUMENT))
  })

  it('measures the MessagePack size of every value exactly, in the same pass', () => {
    const json = acceptedJson(5)
    const extremes = fc.constantFrom<Json>(
      -(2 ** 31) - 1,
      -(2 ** 31),
      -32769,
      -32768,
      -129,
      -128,
      -33,
      -32,
      127,
      128,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      0.5,
      -0,
      'é'.repeat(20),
      '𝄞'.repeat(10),
      'x'.repeat(31),
      'x'.repeat(32),
      'x'.repeat(70000),
      Array.from({ length: 16 }, (_, i) => i),
      Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))
    )
    fc.assert(
      fc.property(fc.oneof(json, extremes), (value) => {
        const packed = pack(value)
        // The same bytes the reference encoder writes, so every peer measures and compares a value alike.
        expect(Buffer.from(encodeChecked(value, lim(64))).equals(packed)).toBe(true)
        // Stored values are frozen: measuring one again must neither throw nor change the figure.
        const frozen = freezeJson(decodeValue(packed), lim(64))
        expect(frozen.size).toBe(packed.byteLength)
        expect(encodedSize(frozen.value)).toBe(packed.byteLength)
      }),
      { numRuns: 500 }
    )
  })

  it('rejects values over the size limit with ERR_VALUE_TOO_LARGE, encoded and in place', () => {
    expect(encodeChecked('x'.repeat(29), lim(8, 30)).byteLength).toBe(30)
    expect(freezeJson('x'.repeat(29), lim(8, 30)).size).toBe(30)
    expect(() => encodeChecked('x'.repeat(30), lim(8, 30))).toThrowError(code(ErrorCode.VALUE_TOO_LARGE))
    expect(() => freezeJson({ a: 'x'.repeat(40) }, lim(8, 30))).toThrowError(code(ErrorCode.VALUE_TOO_LARGE))
  })

  it('names the offending path in errors', () => {
    expect(() => encodeChecked({ a: [1, { b: undefined }] }, lim(8))).toThrowError(/variable\.a\[1\]\.b is undefined/)
    let deep: unknown = 1
    for (let i = 0; i < 3; i++) deep = { d: deep }
    expect(() => encodeChecked(deep, lim(2))).toThrowError(/variable\.d\.d nests deeper than 2/)
  })
})
