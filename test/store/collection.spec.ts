import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Collection } from '../../src/store/collection.js'
import { bucketOf } from '../../src/store/digest.js'
import { EncodedEntry, encodeValue } from '../../src/store/encoded.js'
import { KeyBytes } from '../../src/store/key.js'
import { Space } from '../../src/store/space.js'
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

describe('collection buckets', () => {
  it('reads the digest bucket of a stored key from its record as bucketOf does from its string, in any script', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3 }),
        fc.uniqueArray(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        (name, keys, shared) => {
          const writers = new Writers()
          const space = shared ? new Space(writers, true) : undefined
          const c = new Collection(name, writers, space)
          // In a shared space, another collection's keys between: positions are not slots there.
          const other = new Collection(`${name}.`, writers, space)
          keys.forEach((k, n) => {
            other.put(-1, { ...update(k, n + 1), collection: `${name}.` })
            c.put(-1, { ...update(k, n + 1), collection: name })
          })
          for (const k of keys) expect(c.bucketAt(c.find(k))).toBe(bucketOf(name, k))
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe('collection reads', () => {
  type ReadOp =
    | { save: string; n: number; ttl: number; remote: boolean; removed: boolean }
    | { drop: string }
    | { read: string }
    | { wait: number }

  it('reads what the model holds under any sequence of local and received writes, removals, drops, expiries and reads', () => {
    // Few keys, so that reads fill the cache of decoded values, keys share its lines, and a slot
    // freed by a drop is reused by another key: a read must never answer from a line gone stale.
    const name = (i: number) => (i % 4 === 0 ? `ключ${i}` : `k${i}`)
    const key = fc.integer({ min: 0, max: 40 }).map(name)
    const op: fc.Arbitrary<ReadOp> = fc.oneof(
      fc.record({
        save: key,
        n: fc.nat(1000),
        ttl: fc.constantFrom(0, 5, 50),
        remote: fc.boolean(),
        removed: fc.boolean()
      }),
      fc.record({ drop: key }),
      fc.record({ read: key }),
      fc.record({ read: key }),
      fc.record({ wait: fc.integer({ min: 1, max: 20 }) })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const c = new Collection('c', new Writers())
        const model = new Map<string, { value: unknown; removed: boolean; expiresAt: number }>()
        let now = NOW
        let wall = NOW
        const expected = (k: string) => {
          const m = model.get(k)
          return m === undefined || m.removed || (m.expiresAt !== 0 && m.expiresAt <= now) ? null : m.value
        }
        for (const o of ops) {
          if ('save' in o) {
            // Every save's value differs from every other's, so that a stale read shows.
            wall++
            const value = { n: o.n, k: o.save, wall }
            const expiresAt = o.ttl === 0 ? 0 : now + o.ttl
            // A received key is a string, or bytes of the frame it came in (every ASCII key merged column by column).
            const remoteKey =
              wall % 2 === 0 ? o.save : new KeyBytes(Buffer.from(` ${o.save}`), 1, Buffer.byteLength(` ${o.save}`))
            const u = o.remote
              ? new EncodedEntry(
                  'c',
                  remoteKey,
                  wall,
                  0,
                  'w1',
                  expiresAt,
                  o.removed,
                  o.removed ? undefined : encodeValue(value)
                )
              : {
                  collection: 'c',
                  key: o.save,
                  wall,
                  logical: 0,
                  node: 'w0',
                  expiresAt,
                  deleted: o.removed,
                  value: o.removed ? null : value
                }
            c.put(c.find(o.save), u)
            model.set(o.save, { value, removed: o.removed, expiresAt })
          } else if ('drop' in o) {
            const slot = c.find(o.drop)
            if (slot >= 0) c.delete(slot)
            model.delete(o.drop)
          } else if ('read' in o) {
            expect(c.get(o.read, () => now)).toEqual(expected(o.read))
          } else now += o.wait
        }
        for (let i = 0; i <= 40; i++) {
          expect(c.get(name(i), () => now)).toEqual(expected(name(i)))
          const slot = c.find(name(i))
          if (slot >= 0 && expected(name(i)) !== null) expect(c.value(slot)).toEqual(expected(name(i)))
        }
      }),
      { numRuns: 300 }
    )
  })

  it('reads the clock only for a collection that expires entries', () => {
    const c = new Collection('c', new Writers())
    c.put(-1, { ...update('k', 2), value: 'v' })
    let reads = 0
    const now = () => {
      reads++
      return NOW
    }
    expect(c.get('k', now)).toBe('v')
    expect(c.get('absent', now)).toBe(null)
    expect(reads).toBe(0)
    c.put(-1, { ...update('t', 1), deleted: false, expiresAt: NOW + 10, value: 'soon' })
    expect(c.get('t', now)).toBe('soon')
    expect(reads).toBe(1)
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
