/**
 * The arena under overwrites that fill pages: a write that opens a page may make
 * the page it closed due for compaction, and that page may hold the very record
 * the write replaces. Every key must read back its last version (value and
 * stamp) after every step, whatever the sizes, and the collection's entries must
 * hash to the same digest as a model's.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeUpdates, readEntryFrame } from '../../src/codec/index.js'
import { Collection } from '../../src/store/collection.js'
import { Digest, hashEntry } from '../../src/store/digest.js'
import { decodeValue, EncodedEntry, encodeValue } from '../../src/store/encoded.js'
import { isCollectable } from '../../src/store/lww.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { Writers } from '../../src/store/writers.js'
import type { Json } from '../../src/value/json.js'
import { PEER_IDS, plain } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'
import { startPeer, stopAll } from '../fixtures/peers.js'

const NOW = 1_700_000_000_000
const NODES = [PEER_IDS[0], PEER_IDS[1]]

/** A string value of `size` characters that names its version `v` (so a stale one never passes for it). */
function text(v: number, size: number): string {
  const tag = `${v}:`
  return size <= tag.length ? tag : tag + 'x'.repeat(size - tag.length)
}

/** Stores `u` as a local write (its key new or not), as Replica.mergeEntry does. */
function put(c: Collection, u: EntryUpdate): void {
  c.put(c.find(u.key), u)
}

/** Stores `u` as an entry of a received frame (its key all ASCII), as Replica.mergeBatch does. */
function putFromBatch(c: Collection, u: EntryUpdate): void {
  const frame = readEntryFrame(encodeUpdates([{ update: u }], []), limits)
  if (frame === undefined) throw new Error('not an UPDATES frame')
  const entry = frame.batch.entry(0)
  c.put(c.find(entry.rawKey), entry)
}

/** XOR digest of entries, as a replica keeps it. */
function digestOf(entries: Iterable<EntryUpdate>): string {
  const d = new Digest()
  for (const e of entries) d.toggle(hashEntry(e))
  return d.root()
}

/** Checks that `c` holds exactly the entries of `model` (the keys named in `keys` and no other). */
function expectHolds(c: Collection, model: Map<string, EntryUpdate>, keys: readonly string[], step: string): void {
  expect(c.size, `${step}: size`).toBe(model.size)
  const stored: EntryUpdate[] = []
  let live = 0
  for (let slot = 0; slot < c.slotLimit; slot++) {
    if (!c.has(slot)) continue
    const key = c.keyOf(slot) as string
    expect(model.has(key), `${step}: ${key} is stored but was never written or was dropped`).toBe(true)
    stored.push(c.read(slot))
    if (c.isLive(slot, NOW)) live++
  }
  let modelLive = 0
  for (const e of model.values()) if (!e.deleted && (e.expiresAt === 0 || e.expiresAt > NOW)) modelLive++
  expect(live, `${step}: live entries`).toBe(modelLive)
  for (const key of keys) {
    const slot = c.find(key)
    const want = model.get(key)
    expect(slot >= 0, `${step}: ${key} found`).toBe(want !== undefined)
    if (want === undefined) continue
    const got = plain(c.read(slot)) as EntryUpdate
    // Stamps first, values apart: a failure names the field instead of printing a 200 KB diff.
    expect({ ...got, value: null }, `${step}: ${key} stamp`).toEqual({ ...want, value: null })
    expect(isDeepStrictEqual(got.value, want.value), `${step}: ${key} read`).toBe(true)
    expect(isDeepStrictEqual(c.value(slot), want.value), `${step}: ${key} value`).toBe(true)
  }
  expect(digestOf(stored), `${step}: digest`).toBe(digestOf(model.values()))
}

describe('arena: overwriting keys with values that fill pages', () => {
  afterAll(stopAll)

  it('reads every key back after each of 300 overwrites of 20 KB (the reported crash)', () => {
    const writers = new Writers()
    const c = new Collection('c', writers)
    const model = new Map<string, EntryUpdate>()
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`)
    for (let i = 0; i < 300; i++) {
      const u: EntryUpdate = {
        collection: 'c',
        key: `k${i % 16}`,
        wall: NOW + i,
        logical: 0,
        node: NODES[0],
        expiresAt: 0,
        deleted: false,
        value: text(i, 20_000)
      }
      put(c, u)
      model.set(u.key, u)
      expectHolds(c, model, keys, `save ${i}`)
    }
  })

  it('does the same for entries received in frames (the batch path)', () => {
    const writers = new Writers()
    const c = new Collection('c', writers)
    const model = new Map<string, EntryUpdate>()
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`)
    for (let i = 0; i < 300; i++) {
      const u: EntryUpdate = {
        collection: 'c',
        key: `k${i % 16}`,
        wall: NOW + i,
        logical: 0,
        node: NODES[i % 2],
        expiresAt: 0,
        deleted: false,
        value: text(i, 20_000)
      }
      putFromBatch(c, u)
      model.set(u.key, u)
      expectHolds(c, model, keys, `frame ${i}`)
    }
  })

  it('an embedded peer saves 300 values of 20 KB over 16 keys and reads each back', async () => {
    const peer = await startPeer()
    const model = new Map<string, string>()
    for (let i = 0; i < 300; i++) {
      const key = `k${i % 16}`
      await peer.save({ collection: 'c', key, variable: text(i, 20_000) })
      model.set(key, text(i, 20_000))
      for (const [k, v] of model)
        expect((await peer.get({ collection: 'c', key: k })) === v, `save ${i}: ${k}`).toBe(true)
    }
    expect(Object.keys(await peer.getArray({ collection: 'c' })).length).toBe(16)
  })
})

/** Value sizes: small; paged, so that a run fills a few 1 MiB pages; at the own-buffer threshold (64 KiB records); and up to 200 KB. */
const size = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 6, arbitrary: fc.integer({ min: 8_000, max: 64_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65_480, max: 65_560 }) },
  { weight: 1, arbitrary: fc.integer({ min: 64_000, max: 200_000 }) }
)
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'ключ', 'k🔑'] as const
const key = fc.constantFrom(...KEYS)
/** How a write arrives: a local string (written straight into its record), a local object, a received entry, a received frame. */
const shape = fc.constantFrom('text', 'object', 'encoded', 'batch')
const logical = fc.constantFrom(0, 1, 0xfffe, 0xffff, 0x10000, 2 ** 40)
/** Never, later (live), or already past (expired, collectable). */
const expiry = fc.constantFrom(0, 0, NOW + 1e9, NOW - 1)

type Op =
  | { op: 'put'; key: string; size: number; shape: string; logical: number; expiresAt: number; node: number }
  | { op: 'remove'; key: string }
  | { op: 'drop'; key: string }
  | { op: 'collect' }
  | { op: 'hold'; key: string }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      key,
      size,
      shape,
      logical,
      expiresAt: expiry,
      node: fc.integer({ min: 0, max: 1 })
    })
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('collect' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('hold' as const), key }) }
)

describe('arena: records at the edges of a page and of the own-buffer threshold', () => {
  /** The arena's largest paged record (arena.ts MAX_PAGED_RECORD). */
  const MAX_PAGED_RECORD = 64 * 1024
  /**
   * Bytes of the record of a 3-byte key and a string value of `n` ASCII characters: slot (4),
   * key length (1), key, value length (a varint), MessagePack string header, characters.
   */
  const recordOf = (n: number) => {
    const value = (n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5) + n
    return 4 + 1 + 3 + (value < 0x80 ? 1 : value < 0x4000 ? 2 : 3) + value
  }
  const entry = (key: string, v: number, n: number): EntryUpdate => ({
    collection: 'c',
    key,
    wall: NOW + v,
    logical: 0,
    node: NODES[0],
    expiresAt: 0,
    deleted: false,
    value: text(v, n)
  })

  it('fills a page to its last byte before opening the next', () => {
    const c = new Collection('c', new Writers())
    const model = new Map<string, EntryUpdate>()
    const keys: string[] = []
    const store = (n: number) => {
      const key = `k${String(keys.length).padStart(2, '0')}`
      keys.push(key)
      const u = entry(key, keys.length, n)
      put(c, u)
      model.set(key, u)
    }
    store(20_000)
    // The first page, sized to the first record (a power of two of at least 1 KiB).
    const page = c.arenaBytes()
    expect(page).toBe(32 * 1024)
    let filled = recordOf(20_000)
    while (filled + recordOf(5_000) <= page) {
      store(5_000)
      filled += recordOf(5_000)
    }
    // The value whose record takes exactly the bytes left.
    let n = page - filled - recordOf(0)
    while (recordOf(n) > page - filled) n--
    expect(recordOf(n)).toBe(page - filled)
    store(n)
    expect(c.arenaBytes()).toBe(page)
    // The next page is sized to what the arena holds: one page's worth.
    store(0)
    expect(c.arenaBytes()).toBe(2 * page)
    expectHolds(c, model, keys, 'page edge')
  })

  it('pages a record of 64 KiB and gives one byte more a buffer of its own', () => {
    const c = new Collection('c', new Writers())
    const model = new Map<string, EntryUpdate>()
    let n = MAX_PAGED_RECORD
    while (recordOf(n) > MAX_PAGED_RECORD) n--
    expect(recordOf(n)).toBe(MAX_PAGED_RECORD)
    for (const [key, size] of [
      ['k00', n],
      ['k01', n + 1]
    ] as const) {
      const u = entry(key, model.size, size)
      put(c, u)
      model.set(key, u)
    }
    expect(c.arenaBytes()).toBe(MAX_PAGED_RECORD + MAX_PAGED_RECORD + 1)
    // Overwritten both ways: paged to own and own to paged.
    for (const [key, size] of [
      ['k00', n + 1],
      ['k01', n]
    ] as const) {
      const u = entry(key, model.size + 2, size)
      put(c, u)
      model.set(key, u)
    }
    expectHolds(c, model, ['k00', 'k01'], 'own-buffer edge')
    expect(c.arenaBytes()).toBe(MAX_PAGED_RECORD + MAX_PAGED_RECORD + 1)
  })
})

describe('arena: any sequence of writes, overwrites, removals and collections', () => {
  it('keeps every key, the live count and the digest equal to a model after every step', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 40, maxLength: 120, size: 'max' }), (ops) => {
        const writers = new Writers()
        const c = new Collection('c', writers)
        const model = new Map<string, EntryUpdate>()
        /** Entries read earlier, with the value they had: pages they lie on may be compacted since. */
        const held: Array<{ entry: EncodedEntry; value: Json }> = []
        let v = 0
        for (const [n, o] of ops.entries()) {
          v++
          const step = `step ${n} ${JSON.stringify(o)}`
          const slot = 'key' in o ? c.find(o.key) : -1
          if (o.op === 'put') {
            const base = {
              collection: 'c',
              key: o.key,
              wall: NOW + v,
              logical: o.logical,
              node: NODES[o.node],
              expiresAt: o.expiresAt,
              deleted: false
            }
            const value: Json = o.shape === 'text' ? text(v, o.size) : { v, s: text(v, o.size) }
            const u: EntryUpdate = { ...base, value }
            const ascii = /^[a-z]+$/.test(o.key)
            if (o.shape === 'batch' && ascii) putFromBatch(c, u)
            else if (o.shape === 'encoded' || o.shape === 'batch') {
              put(c, new EncodedEntry('c', o.key, u.wall, u.logical, u.node, u.expiresAt, false, encodeValue(value)))
            } else put(c, u)
            model.set(o.key, u)
          } else if (o.op === 'remove') {
            const u: EntryUpdate = {
              collection: 'c',
              key: o.key,
              wall: NOW + v,
              logical: 0,
              node: NODES[0],
              expiresAt: 0,
              deleted: true,
              value: null
            }
            put(c, u)
            model.set(o.key, u)
          } else if (o.op === 'drop') {
            if (slot >= 0) c.delete(slot)
            model.delete(o.key)
          } else if (o.op === 'collect') {
            // What a replica's collection does: drop tombstones and expired entries past a horizon.
            const horizon = NOW + 2e9
            for (let s = 0; s < c.slotLimit; s++) if (c.has(s) && c.isCollectable(s, horizon)) c.delete(s)
            for (const [k, e] of model) if (isCollectable(e.deleted, e.wall, e.expiresAt, horizon)) model.delete(k)
          } else if (slot >= 0) {
            const entry = c.read(slot)
            held.push({ entry, value: entry.value })
          }
          expectHolds(c, model, KEYS, step)
          for (const h of held) {
            // Decoded again from its bytes: the entry's own decoded value is kept from the first read.
            const again = h.entry.source === undefined ? null : decodeValue(h.entry.source, h.entry.start)
            expect(isDeepStrictEqual(again, h.value), `${step}: held ${h.entry.key}`).toBe(true)
          }
        }
      }),
      // A failing run is reported as found, with its seed and path, unshrunk: shrinking a hundred
      // steps that each read back every key of up to 200 KB takes longer than the run is worth.
      { numRuns: 60, endOnFailure: true }
    )
  })
})
