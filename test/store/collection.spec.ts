import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Collection, hashKey, Writers } from '../../src/store/collection.js'
import type { EntryUpdate } from '../../src/store/types.js'

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
    if (c.keyOf(slot) !== undefined) out.set(c.keyOf(slot) as string, c.read(slot, 'c'))
  return out
}

type Op = { put: string; n: number } | { del: string }

describe('collection index', () => {
  it('behaves as a map from key to entry under any sequence of writes and removals', () => {
    // Few distinct keys, so that the same ones are written, removed and written again.
    const key = fc.integer({ min: 0, max: 60 }).map((i) => `k${i}`)
    const op: fc.Arbitrary<Op> = fc.oneof(fc.record({ put: key, n: fc.nat(1000) }), fc.record({ del: key }))
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const c = new Collection(new Writers())
        const model = new Map<string, EntryUpdate>()
        for (const o of ops) {
          if ('put' in o) {
            const u = update(o.put, o.n)
            const slot = c.find(o.put, hashKey(o.put))
            if (slot < 0) c.add(o.put, hashKey(o.put), u)
            else c.set(slot, u)
            model.set(o.put, u)
          } else {
            const slot = c.find(o.del, hashKey(o.del))
            expect(slot >= 0).toBe(model.has(o.del))
            if (slot >= 0) c.delete(slot)
            model.delete(o.del)
          }
        }
        expect(c.size).toBe(model.size)
        expect(contents(c)).toEqual(model)
        for (let i = 0; i <= 60; i++) expect(c.find(`k${i}`, hashKey(`k${i}`)) >= 0).toBe(model.has(`k${i}`))
      }),
      { numRuns: 200 }
    )
  })

  it('keeps finding every key through growth, removal of most, and growth again', () => {
    const c = new Collection(new Writers())
    for (let i = 0; i < 50_000; i++) c.add(`k${i}`, hashKey(`k${i}`), update(`k${i}`, i))
    for (let i = 0; i < 50_000; i++) if (i % 10 !== 0) c.delete(c.find(`k${i}`, hashKey(`k${i}`)))
    expect(c.size).toBe(5_000)
    for (let i = 50_000; i < 60_000; i++) c.add(`k${i}`, hashKey(`k${i}`), update(`k${i}`, i))
    expect(c.size).toBe(15_000)
    // Freed slots are reused: the slots in use stay close to the entries held.
    expect(c.slotLimit).toBe(50_000)
    for (let i = 0; i < 60_000; i++) {
      const slot = c.find(`k${i}`, hashKey(`k${i}`))
      if (i < 50_000 && i % 10 !== 0) expect(slot).toBe(-1)
      else expect(c.read(slot, 'c')).toEqual(update(`k${i}`, i))
    }
  })
})
