/**
 * Collections sharing a replica's space (store/space.ts): the same keys in several
 * collections, collections growing past SMALL_KEYS and moving to a space of their own,
 * entries dropped and their slots reused by another collection. Each collection must
 * read as a model of its own, keep each key's position while it is stored, and hash
 * its entries as they would hash anywhere else (the digest sync compares).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Collection, SMALL_KEYS } from '../../src/store/collection.js'
import { hashEntry, type MemberHash } from '../../src/store/digest.js'
import { EncodedEntry, encodeValue } from '../../src/store/encoded.js'
import { Space } from '../../src/store/space.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { Writers } from '../../src/store/writers.js'
import { plain } from '../fixtures/entries.js'

const NOW = 1_700_000_000_000
const NAMES = ['a', 'b', 'c'] as const

type Op =
  | { save: number; coll: number; remote: boolean; removed: boolean; ttl: number }
  | { fill: number; coll: number }
  | { drop: number; coll: number }
  | { read: number; coll: number }
  | { wait: number }

const keyName = (i: number) => (i % 5 === 0 ? `ключ${i}` : `k${i}`)

describe('collections sharing a space', () => {
  it('each read as their own model, keep their keys’ positions, and hash as anywhere else, through moves and drops', () => {
    const key = fc.integer({ min: 0, max: 90 })
    const coll = fc.integer({ min: 0, max: NAMES.length - 1 })
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ save: key, coll, remote: fc.boolean(), removed: fc.boolean(), ttl: fc.constantFrom(0, 0, 30) }),
      fc.record({ fill: fc.integer({ min: 1, max: 40 }), coll }),
      fc.record({ drop: key, coll }),
      fc.record({ read: key, coll }),
      fc.record({ wait: fc.integer({ min: 1, max: 20 }) })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const writers = new Writers()
        const shared = new Space(writers, true)
        const colls = NAMES.map((name) => new Collection(name, writers, shared))
        const models = NAMES.map(() => new Map<string, EntryUpdate>())
        const positions = NAMES.map(() => new Map<string, number>())
        let now = NOW
        let wall = NOW
        const expected = (c: number, k: string) => {
          const m = models[c].get(k)
          return m === undefined || m.deleted || (m.expiresAt !== 0 && m.expiresAt <= now) ? null : m.value
        }
        const save = (c: number, k: string, remote: boolean, removed: boolean, ttl: number) => {
          wall++
          // Every save's value differs from every other's, so that a read of another's shows.
          const value = { c, k, wall }
          const expiresAt = ttl === 0 ? 0 : now + ttl
          const u: EntryUpdate = remote
            ? new EncodedEntry(NAMES[c], k, wall, 0, 'w1', expiresAt, removed, removed ? undefined : encodeValue(value))
            : { collection: NAMES[c], key: k, wall, logical: 0, node: 'w0', expiresAt, deleted: removed, value }
          const at = colls[c].put(colls[c].find(k), u)
          const before = positions[c].get(k)
          if (before !== undefined) expect(at, `${NAMES[c]}/${k} keeps its position`).toBe(before)
          positions[c].set(k, at)
          models[c].set(k, { ...(plain(u) as EntryUpdate), value: removed ? null : value })
        }
        for (const o of ops) {
          if ('save' in o) save(o.coll, keyName(o.save), o.remote, o.removed, o.ttl)
          else if ('fill' in o) for (let i = 0; i < o.fill; i++) save(o.coll, `f${wall}`, false, false, 0)
          else if ('drop' in o) {
            const k = keyName(o.drop)
            const at = colls[o.coll].find(k)
            expect(at >= 0).toBe(models[o.coll].has(k))
            if (at >= 0) colls[o.coll].delete(at)
            models[o.coll].delete(k)
            positions[o.coll].delete(k)
          } else if ('read' in o) {
            const k = keyName(o.read)
            expect(colls[o.coll].get(k, () => now)).toEqual(expected(o.coll, k))
          } else now += o.wait
        }
        for (let c = 0; c < NAMES.length; c++) {
          const col = colls[c]
          expect(col.size).toBe(models[c].size)
          let held = 0
          for (let at = 0; at < col.slotLimit; at++) {
            if (!col.has(at)) continue
            held++
            const k = col.keyOf(at) as string
            expect(positions[c].get(k), `${NAMES[c]}/${k} where it was put`).toBe(at)
            const want = models[c].get(k) as EntryUpdate
            expect(plain(col.read(at))).toEqual(plain(want))
            expect(col.get(k, () => now)).toEqual(expected(c, k))
            if (!want.deleted) expect(col.value(at)).toEqual(want.value)
            const got: MemberHash = { bucket: 0, h1: 0, h2: 0 }
            expect(col.hashOf(at, got)).toEqual(hashEntry(want))
          }
          expect(held).toBe(models[c].size)
          for (let i = 0; i <= 90; i++) expect(col.get(keyName(i), () => now)).toEqual(expected(c, keyName(i)))
        }
      }),
      { numRuns: 200 }
    )
  })

  it('tell one collection’s key from the same key of thousands of others', () => {
    const writers = new Writers()
    const shared = new Space(writers, true)
    const colls = Array.from({ length: 5_000 }, (_, i) => new Collection(`user:${i}`, writers, shared))
    for (const c of colls)
      for (const key of ['k', 'session'])
        c.put(c.find(key), {
          collection: c.name,
          key,
          wall: NOW,
          logical: 0,
          node: 'w',
          expiresAt: 0,
          deleted: false,
          value: c.name
        })
    // read() goes by the index, not the cache of decoded values.
    for (const c of colls) {
      for (const key of ['k', 'session']) {
        const at = c.find(key)
        expect(c.keyOf(at)).toBe(key)
        expect(c.read(at).value, `${c.name}/${key}`).toBe(c.name)
      }
    }
  })

  it('move a collection to a space of its own once it holds SMALL_KEYS keys, and leave the shared one to the others', () => {
    const writers = new Writers()
    const shared = new Space(writers, true)
    const big = new Collection('big', writers, shared)
    const small = new Collection('small', writers, shared)
    const put = (c: Collection, k: string) =>
      c.put(-1, {
        collection: c.name,
        key: k,
        wall: NOW,
        logical: 0,
        node: 'w',
        expiresAt: 0,
        deleted: false,
        value: k
      })
    for (let i = 0; i < 3; i++) put(small, `k${i}`)
    for (let i = 0; i < SMALL_KEYS; i++) put(big, `k${i}`)
    expect(shared.size).toBe(SMALL_KEYS + 3)
    expect(big.arenaBytes()).toBe(0)
    put(big, `k${SMALL_KEYS}`)
    expect(shared.size).toBe(3)
    expect(big.arenaBytes()).toBeGreaterThan(0)
    for (let i = 0; i <= SMALL_KEYS; i++) expect(big.get(`k${i}`, () => NOW)).toBe(`k${i}`)
    for (let i = 0; i < 3; i++) expect(small.get(`k${i}`, () => NOW)).toBe(`k${i}`)
  })
})
