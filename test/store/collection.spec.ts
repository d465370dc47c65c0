import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Collection } from '../../src/store/collection.js'
import { EncodedEntry, encodeValue } from '../../src/store/encoded.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { Writers } from '../../src/store/writers.js'
import { plain } from '../fixtures/entries.js'

const NOW = 1_700_000_000_000

function update(key: string, n: number): EntryUpdate {
  return {
    collection: 'c',
    key,
    wall: NOW + n,
    logical: n,
    node: `w${n % 3}`,
    expiresAt: n % 2 === 0 ? 0 : NOW + n,
    deleted: n % 5 === 0,
    value: n % 5 === 0 ? null : { n }
  }
}

/** Every stored entry, by key. */
function contents(c: Collection): Map<string, EntryUpdate> {
  const out = new Map<string, EntryUpdate>()
  for (let slot = 0; slot < c.slotLimit; slot++)
    if (c.keyOf(slot) !== undefined) out.set(c.keyOf(slot) as string, plain(c.read(slot)) as EntryUpdate)
  return out
}

type Op = { put: string; n: number } | { del: string }

describe('collection index', () => {
  it('behaves as a map from key to entry under any sequence of writes and removals', () => {
    // Few distinct keys, so that the same ones are written, removed and written again; some
    // not ASCII (a removal or a rebuild hashes each key again from its UTF-8 record).
    const name = (i: number) => (i % 3 === 0 ? `ключ${i}` : i % 3 === 1 ? `k🔑${i}` : `k${i}`)
    const key = fc.integer({ min: 0, max: 60 }).map(name)
    const op: fc.Arbitrary<Op> = fc.oneof(fc.record({ put: key, n: fc.nat(1000) }), fc.record({ del: key }))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const c = new Collection('c', new Writers())
        const model = new Map<string, EntryUpdate>()
        for (const o of ops) {
          if ('put' in o) {
            const u = update(o.put, o.n)
            c.put(c.find(o.put), u)
            model.set(o.put, u)
          } else {
            const slot = c.find(o.del)
            expect(slot >= 0).toBe(model.has(o.del))
            if (slot >= 0) c.delete(slot)
            model.delete(o.del)
          }
        }
        expect(c.size).toBe(model.size)
        expect(contents(c)).toEqual(model)
        for (let i = 0; i <= 60; i++) expect(c.find(name(i)) >= 0).toBe(model.has(name(i)))
      }),
      { numRuns: 200 }
    )
  })

  it('keeps finding every key through growth, removal of most, and growth again', () => {
    const c = new Collection('c', new Writers())
    for (let i = 0; i < 50_000; i++) c.put(-1, update(`k${i}`, i))
    for (let i = 0; i < 50_000; i++) if (i % 10 !== 0) c.delete(c.find(`k${i}`))
    expect(c.size).toBe(5_000)
    for (let i = 50_000; i < 60_000; i++) c.put(-1, update(`k${i}`, i))
    expect(c.size).toBe(15_000)
    // Freed slots are reused: the slots in use stay close to the entries held.
    expect(c.slotLimit).toBe(50_000)
    for (let i = 0; i < 60_000; i++) {
      const slot = c.find(`k${i}`)
      if (i < 50_000 && i % 10 !== 0) expect(slot).toBe(-1)
      else expect(plain(c.read(slot))).toEqual(update(`k${i}`, i))
    }
  })
})

describe('collection arena', () => {
  const big = 'v'.repeat(100)

  it('compacts pages that overwrites leave mostly garbage, and keeps every value', () => {
    const c = new Collection('c', new Writers())
    const put = (key: string, value: string, n: number) => {
      const u = { ...update(key, n), deleted: false, value }
      const slot = c.find(key)
      if (slot < 0) c.put(-1, u)
      else c.put(slot, u)
    }
    for (let i = 0; i < 10_000; i++) put(`k${i}`, `${big}${i}`, 1)
    const held = c.arenaBytes()
    // Rewrite every key 20 times: 20× the bytes written, and the arena stays near one copy.
    for (let round = 0; round < 20; round++) for (let i = 0; i < 10_000; i++) put(`k${i}`, `${big}${i}.${round}`, 1)
    expect(c.arenaBytes()).toBeLessThanOrEqual(held * 3)
    for (let i = 0; i < 10_000; i += 7) expect(c.value(c.find(`k${i}`))).toBe(`${big}${i}.19`)
  })

  it('keeps an entry read before its page was compacted intact', () => {
    const c = new Collection('c', new Writers())
    for (let i = 0; i < 20_000; i++) c.put(-1, { ...update(`k${i}`, 1), value: `${big}${i}` })
    const early = c.read(c.find('k3'))
    for (let i = 0; i < 20_000; i++) if (i !== 3) c.delete(c.find(`k${i}`))
    for (let i = 0; i < 20_000; i++) c.put(-1, { ...update(`n${i}`, 1), value: `other${i}` })
    expect(early.value).toBe(`${big}3`)
    expect(c.value(c.find('k3'))).toBe(`${big}3`)
  })

  it('stores keys of any script, values of any size, and wide logical counters', () => {
    const c = new Collection('c', new Writers())
    const keys = ['é', 'ключ', '鍵', '🔑', 'a'.repeat(300), 'k']
    const huge = 'h'.repeat(200_000)
    for (const [n, key] of keys.entries()) {
      c.put(-1, { ...update(key, 1), logical: 2 ** 40 + n, value: `${key}${huge}` })
    }
    for (const [n, key] of keys.entries()) {
      const slot = c.find(key)
      expect(c.keyOf(slot)).toBe(key)
      expect(c.value(slot)).toBe(`${key}${huge}`)
      expect(c.read(slot).logical).toBe(2 ** 40 + n)
    }
    // A key whose UTF-8 bytes begin like another's is still another key.
    expect(c.find('é ')).toBe(-1)
    c.put(c.find('🔑'), { ...update('🔑', 2), value: 'small' })
    expect(c.value(c.find('🔑'))).toBe('small')
    // Around the 16-bit column's edge, and back below it.
    for (const logical of [0xfffe, 0xffff, 0x10000, 5]) {
      c.put(c.find('k'), { ...update('k', 3), logical })
      expect(c.read(c.find('k')).logical).toBe(logical)
    }
  })

  it('reads the value last written, not one it kept decoded', () => {
    const c = new Collection('c', new Writers())
    const slot = c.put(-1, { ...update('k', 1), value: 'one' })
    expect(c.value(slot)).toBe('one')
    c.put(slot, { ...update('k', 2), deleted: false, value: 'two' })
    expect(c.value(slot)).toBe('two')
    // A received entry carries bytes only; the value decoded before is dropped.
    c.put(slot, new EncodedEntry('c', 'k', NOW + 3, 3, 'w0', 0, false, encodeValue({ n: 3 })))
    expect(c.value(slot)).toEqual({ n: 3 })
    c.delete(slot)
    const again = c.put(-1, { ...update('j', 1), value: 'three' })
    expect(again).toBe(slot)
    expect(c.value(again)).toBe('three')
  })
})

describe('collection memory', () => {
  it('holds a few KiB for a handful of small entries, and pages as large as its records as it grows', () => {
    const small = new Collection('c', new Writers())
    for (let i = 0; i < 3; i++) small.put(-1, { ...update(`k${i}`, 1), value: 'x'.repeat(200) })
    expect(small.arenaBytes()).toBeLessThanOrEqual(4096)
    const large = new Collection('c', new Writers())
    for (let i = 0; i < 20_000; i++) large.put(-1, { ...update(`k${i}`, 1), value: 'x'.repeat(200) })
    // About 4.5 MB of records: in a dozen pages or so, not thousands of small ones.
    expect(large.arenaBytes()).toBeLessThan(2 * 20_000 * 220 + (1 << 20))
    for (let i = 0; i < 20_000; i += 997) expect(large.value(large.find(`k${i}`))).toBe('x'.repeat(200))
  })
})
