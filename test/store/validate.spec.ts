import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/errors.js'
import { checkName, freezeJson, toFrozenJson } from '../../src/store/validate.js'

const code = (c: string) => expect.objectContaining({ code: c })

describe('value validation', () => {
  it('copies and deep-freezes JSON values', () => {
    const input = { a: [1, { b: 'x' }], n: null, t: true }
    const out = toFrozenJson(input, 64) as { a: [number, { b: string }] }
    expect(out).toEqual(input)
    expect(out).not.toBe(input)
    expect(Object.isFrozen(out.a[1])).toBe(true)
    expect(Object.isFrozen(input)).toBe(false)
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
    expect(() => toFrozenJson(value, 64)).toThrowError(code(ErrorCode.INVALID_VALUE))
  })

  it('freezeJson freezes a fresh value in place, with the same checks', () => {
    const fresh = { a: [1, { b: 'x' }] }
    const out = freezeJson(fresh, 64) as { a: [number, { b: string }] }
    expect(out).toBe(fresh)
    expect(Object.isFrozen(fresh.a[1])).toBe(true)
    expect(() => freezeJson({ a: { b: undefined } }, 64)).toThrowError(code(ErrorCode.INVALID_VALUE))
    expect(() => freezeJson([[[1]]], 2)).toThrowError(code(ErrorCode.VALUE_TOO_DEEP))
  })

  it('rejects cycles', () => {
    const a: Record<string, unknown> = {}
    a.self = a
    expect(() => toFrozenJson(a, 64)).toThrowError(code(ErrorCode.INVALID_VALUE))
  })

  it('accepts shared (non-cyclic) references', () => {
    const shared = { x: 1 }
    expect(toFrozenJson({ a: shared, b: shared }, 64)).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })

  it('rejects nesting beyond the limit with ERR_VALUE_TOO_DEEP', () => {
    let deep: unknown = 1
    for (let i = 0; i < 10; i++) deep = [deep]
    expect(() => toFrozenJson(deep, 10)).not.toThrow()
    expect(() => toFrozenJson([deep], 10)).toThrowError(code(ErrorCode.VALUE_TOO_DEEP))
  })

  it('checks names', () => {
    expect(checkName('key', 'k', 5)).toBe('k')
    expect(() => checkName('key', '', 5)).toThrowError(code(ErrorCode.INVALID_NAME))
    expect(() => checkName('key', 'toolong', 5)).toThrowError(code(ErrorCode.INVALID_NAME))
    expect(() => checkName('key', 3, 5)).toThrowError(code(ErrorCode.INVALID_ARGUMENT))
    expect(() => checkName('key', undefined, 5)).toThrowError(code(ErrorCode.INVALID_ARGUMENT))
  })
})
