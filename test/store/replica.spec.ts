import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { DIGEST_EPOCH, Digest, digestEpoch } from '../../src/store/digest.js'
import { Replica } from '../../src/store/replica.js'
import type { ChangeEvent, CounterUpdate, EntryUpdate } from '../../src/store/types.js'
import { plain } from '../fixtures/entries.js'

const NOW = 1_700_000_000_000

function replica(node = 'self', events: ChangeEvent[] = [], now = () => NOW): Replica {
  return new Replica({
    node,
    slot: `${node}/x`,
    clock: new Clock({ now, maxSkew: Number.MAX_SAFE_INTEGER }),
    tombstoneTtl: 1000,
    onChange: (e) => events.push(e)
  })
}

const entryUpdate: fc.Arbitrary<EntryUpdate> = fc
  .record({
    collection: fc.constantFrom('c1', 'c2'),
    key: fc.constantFrom('k1', 'k2', 'k3'),
    wall: fc.integer({ min: NOW - 5, max: NOW + 5 }),
    logical: fc.integer({ min: 0, max: 2 }),
    node: fc.constantFrom('a', 'b', 'c'),
    expiresAt: fc.constantFrom(0, NOW + 10_000),
    deleted: fc.boolean()
  })
  // Values come from a small set so that same-stamp conflicts (a buggy or hostile writer) are exercised too.
  .chain((u) => fc.constantFrom('x', 'y', { v: 1 }).map((v) => ({ ...u, value: u.deleted ? null : v })))

const counterUpdate: fc.Arbitrary<CounterUpdate> = fc.record({
  counter: fc.constantFrom('n1', 'n2'),
  slot: fc.constantFrom('a/1', 'b/1', 'b/2'),
  inc: fc.integer({ min: 0, max: 50 }),
  dec: fc.integer({ min: 0, max: 50 })
})

const updates = fc.record({
  entries: fc.array(entryUpdate, { maxLength: 30 }),
  counters: fc.array(counterUpdate, { maxLength: 10 })
})
type Updates = { entries: EntryUpdate[]; counters: CounterUpdate[] }

function build(u: Updates): Replica {
  const r = replica()
  for (const e of u.entries) r.mergeEntry(e)
  for (const c of u.counters) r.mergeCounter(c)
  return r
}

/** State-based merge: everything `source` holds, merged into `target`. */
function mergeInto(target: Replica, source: Replica): Replica {
  for (const e of source.entries()) target.mergeEntry(e)
  for (const c of source.counterSlots()) target.mergeCounter(c)
  return target
}

function snapshot(r: Replica): string {
  const entries = [...r.entries()].map((e) => JSON.stringify(e)).sort()
  const counters = [...r.counterSlots()].map((c) => JSON.stringify(c)).sort()
  const totals = r
    .counterNames()
    .sort()
    .map((n) => [n, r.counter(n)])
  return JSON.stringify({ entries, counters, totals })
}

describe('replica merge', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(updates, updates, (a, b) => {
        expect(snapshot(mergeInto(build(a), build(b)))).toBe(snapshot(mergeInto(build(b), build(a))))
      })
    )
  })

  it('is associative', () => {
    fc.assert(
      fc.property(updates, updates, updates, (a, b, c) => {
        const left = mergeInto(mergeInto(build(a), build(b)), build(c))
        const right = mergeInto(build(a), mergeInto(build(b), build(c)))
        expect(snapshot(left)).toBe(snapshot(right))
      })
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(updates, (a) => {
        const once = build(a)
        expect(snapshot(mergeInto(build(a), once))).toBe(snapshot(once))
      })
    )
  })

  it('converges whatever the order and duplication of delivery', () => {
    fc.assert(
      fc.property(updates, fc.integer(), (u, seed) => {
        const shuffled = fc.sample(
          fc.shuffledSubarray([...u.entries, ...u.entries], { minLength: 2 * u.entries.length }),
          { seed, numRuns: 1 }
        )[0]
        const r = replica()
        for (const e of shuffled) r.mergeEntry(e)
        for (const c of [...u.counters].reverse()) r.mergeCounter(c)
        expect(snapshot(r)).toBe(snapshot(build(u)))
      })
    )
  })

  it('stores the same, digest included, when a sync responder passes its clock reading and received tally', () => {
    fc.assert(
      fc.property(updates, (u) => {
        const batched = replica()
        const received = new Digest()
        for (const e of u.entries) batched.mergeEntry(e, 'remote', NOW, received)
        const plain = build({ entries: u.entries, counters: [] })
        expect(snapshot(batched)).toBe(snapshot(plain))
        expect(batched.digest.root()).toBe(plain.digest.root())
      })
    )
  })

  it('lets a tombstone win over an older write that arrives later', () => {
    const r = replica()
    const base = { collection: 'c', key: 'k', node: 'a', expiresAt: 0 }
    r.mergeEntry({ ...base, wall: NOW, logical: 1, deleted: true, value: null })
    expect(r.mergeEntry({ ...base, wall: NOW, logical: 0, deleted: false, value: 'old' })).toBe(false)
    expect(r.get('c', 'k')).toBeNull()
    expect(r.mergeEntry({ ...base, wall: NOW, logical: 2, deleted: false, value: 'new' })).toBe(true)
    expect(r.get('c', 'k')).toBe('new')
  })

  it('breaks ties between concurrent writes on the peer id, the same way everywhere', () => {
    const base = { collection: 'c', key: 'k', wall: NOW, logical: 0, expiresAt: 0, deleted: false }
    const fromA = { ...base, node: 'a', value: 'A' }
    const fromB = { ...base, node: 'b', value: 'B' }
    const r1 = replica()
    r1.mergeEntry(fromA)
    r1.mergeEntry(fromB)
    const r2 = replica()
    r2.mergeEntry(fromB)
    r2.mergeEntry(fromA)
    expect(r1.get('c', 'k')).toBe('B')
    expect(r2.get('c', 'k')).toBe('B')
  })

  it('sums concurrent increments from different peers and incarnations', () => {
    const r = replica()
    r.mergeCounter({ counter: 'n', slot: 'a/1', inc: 3, dec: 0 })
    r.mergeCounter({ counter: 'n', slot: 'b/1', inc: 5, dec: 1 })
    r.mergeCounter({ counter: 'n', slot: 'a/1', inc: 2, dec: 0 }) // stale: ignored
    r.mergeCounter({ counter: 'n', slot: 'a/2', inc: 1, dec: 0 }) // a restarted
    expect(r.counter('n')).toBe(8)
    expect(r.increment('n', 1).value).toBe(9)
    expect(r.increment('m', -1).value).toBe(-1)
  })

  it('hides expired entries and collects dead ones after the tombstone TTL', () => {
    let now = NOW
    const r = replica('self', [], () => now)
    r.save('c', 'short', 1, NOW + 10)
    r.save('c', 'long', 2, 0)
    r.remove('c', 'gone')
    expect(r.getArray('c')).toEqual({ short: 1, long: 2 })
    now = NOW + 11
    expect(r.get('c', 'short')).toBeNull()
    expect(r.getArray('c')).toEqual({ long: 2 })
    // The expired entry counts until it is collected; the tombstone is dead.
    expect(r.size()).toMatchObject({ entries: 2, dead: 1 })
    // Past the TTL, but the digest still counts them until its line (an epoch boundary) passes.
    now = NOW + 1005
    expect(r.collect()).toBe(0)
    now = NOW + 1010 + digestEpoch(1000)
    expect(r.collect()).toBe(2)
    expect(r.size()).toMatchObject({ entries: 1, dead: 0 })
  })

  it('shows the same digest whether or not its dead entries were collected yet', () => {
    let now = NOW
    const clock = () => now
    const [a, b] = [replica('a', [], clock), replica('b', [], clock)]
    const writes: EntryUpdate[] = [
      { collection: 'c', key: 'live', wall: NOW, logical: 0, node: 'n', expiresAt: 0, deleted: false, value: 1 },
      { collection: 'c', key: 'ttl', wall: NOW, logical: 1, node: 'n', expiresAt: NOW + 5, deleted: false, value: 2 },
      { collection: 'c', key: 'gone', wall: NOW, logical: 2, node: 'n', expiresAt: 0, deleted: true, value: null }
    ]
    for (const w of writes) for (const r of [a, b]) r.mergeEntry(w)
    expect(a.digest.root()).toBe(b.digest.root())
    // Collection timers at different phases: a collects as soon as it may, b has not yet.
    for (const step of [500, 2000, DIGEST_EPOCH, DIGEST_EPOCH]) {
      now += step
      a.collect()
      a.ageDigest()
      b.ageDigest()
      expect(a.digest.root()).toBe(b.digest.root())
    }
    expect(a.size()).toMatchObject({ entries: 1, dead: 0 })
    expect(b.size()).toMatchObject({ entries: 2, dead: 1 })
  })

  it('stores entries exactly, past its first slots and in slots freed by collection', () => {
    let now = NOW
    const r = replica('self', [], () => now)
    const writes: EntryUpdate[] = []
    for (let i = 0; i < 3_000; i++) {
      // Stamps and expiries of any safe integer size, and writers beyond this peer.
      const update: EntryUpdate = {
        collection: `c${i % 3}`,
        key: `k${i}`,
        wall: NOW - 1 - (i % 500),
        logical: i === 7 ? Number.MAX_SAFE_INTEGER : i,
        node: `n${i % 5}`,
        expiresAt: i % 2 === 0 ? 0 : NOW + 1e9 + i,
        deleted: i % 4 === 3,
        value: i % 4 === 3 ? null : { i }
      }
      r.mergeEntry(update)
      writes.push(update)
    }
    const stored = (u: EntryUpdate) => plain(r.entry(u.collection, u.key))
    expect(writes.map(stored)).toEqual(writes)
    expect([...r.entries()].length).toBe(3_000)
    // Tombstones are collected; their slots hold the next writes, and nothing else moves.
    now = NOW + 2000 + DIGEST_EPOCH
    expect(r.collect()).toBe(750)
    const next = Array.from({ length: 800 }, (_, i) => r.save('d', `n${i}`, `v${i}`, 0))
    const live = writes.filter((u) => !u.deleted)
    expect([...live, ...next].map(stored)).toEqual([...live, ...next].map(plain))
    expect(writes.filter((u) => u.deleted).map(stored)).toEqual(writes.filter((u) => u.deleted).map(() => undefined))
    expect(r.size()).toMatchObject({ entries: 2_250 + 800, dead: 0 })
  })

  it('builds no change events while nobody listens, and still stores', () => {
    const events: ChangeEvent[] = []
    const r = new Replica({
      node: 'self',
      slot: 'self/x',
      clock: new Clock({ now: () => NOW, maxSkew: 1000 }),
      tombstoneTtl: 1000,
      onChange: (e) => events.push(e),
      hasChangeListeners: () => false
    })
    r.save('c', 'k', 'v', 0)
    r.increment('n', 1)
    expect(events).toEqual([])
    expect(r.get('c', 'k')).toBe('v')
    expect(r.counter('n')).toBe(1)
  })

  it('emits change events for visible changes only', () => {
    const events: ChangeEvent[] = []
    const r = replica('self', events)
    r.save('c', 'k', 'v', 0)
    r.remove('c', 'k')
    r.remove('c', 'never-there')
    r.increment('n', 1)
    expect(events.map((e) => e.type)).toEqual(['save', 'remove', 'counter'])
    expect(events[0]).toMatchObject({ collection: 'c', key: 'k', value: 'v', origin: 'local', node: 'self' })
  })
})

describe('touch', () => {
  it('gives the value a new deadline everywhere, and never brings back a value removed elsewhere meanwhile', () => {
    let now = NOW
    const clock = (node: string) => replica(node, [], () => now)
    const a = clock('a')
    const b = clock('b')
    const saved = a.save('s', 'sid', 'session', NOW + 500)
    b.mergeEntry(saved)
    now += 5
    // a logs out; before the remove reaches b, b touches the session.
    const removed = a.remove('s', 'sid').update
    now += 5
    const touched = b.touch('s', 'sid', now + 1000) as EntryUpdate
    expect(b.get('s', 'sid')).toBe('session')
    a.mergeEntry(touched)
    b.mergeEntry(removed)
    expect([a.get('s', 'sid'), b.get('s', 'sid')]).toEqual([null, null])
    expect(a.digest.root()).toBe(b.digest.root())
    // A touch of a live value replaces it everywhere, with its deadline; a write after it wins.
    const again = a.save('s', 'k', 'v', now + 100)
    b.mergeEntry(again)
    const t = b.touch('s', 'k', now + 500) as EntryUpdate
    a.mergeEntry(t)
    expect(a.entry('s', 'k')?.expiresAt).toBe(now + 500)
    expect(b.save('s', 'k', 'w', 0).logical).toBeGreaterThanOrEqual(0)
    expect(b.get('s', 'k')).toBe('w')
    expect(b.touch('s', 'absent', 0)).toBeUndefined()
  })

  it("never outranks the writer's next write, made in the same millisecond", () => {
    const now = NOW
    const make = (node: string) => replica(node, [], () => now)
    const x = make('x')
    const y = make('y')
    const v1 = x.save('s', 'k', 'v1', now + 500)
    const v2 = x.save('s', 'k', 'v2', now + 500)
    y.mergeEntry(v1)
    // y holds v1 only, and extends it; x's v2 is one logical step after v1.
    const touched = y.touch('s', 'k', now + 1000) as EntryUpdate
    x.mergeEntry(touched)
    y.mergeEntry(v2)
    expect([x.get('s', 'k'), y.get('s', 'k')]).toEqual(['v2', 'v2'])
    expect(x.digest.root()).toBe(y.digest.root())
    // A touch that shortens the deadline is a write of its own, stamped now: it orders as a save.
    const shorter = x.touch('s', 'k', now + 10) as EntryUpdate
    expect(shorter.logical > v2.logical || shorter.wall > v2.wall).toBe(true)
    y.mergeEntry(shorter)
    expect(y.entry('s', 'k')?.expiresAt).toBe(now + 10)
  })
})
