/**
 * The digest's line (store/tally.ts): members leave the digest when the line passes the moment
 * they died. Whatever the writes, removals, counters, collections and moves of the clock, the
 * digest must be the one computed from scratch: the XOR of every member the line still counts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { Digest, digestEpoch, hashCounter, hashEntry } from '../../src/store/digest.js'
import { Replica } from '../../src/store/replica.js'
import { PEER_IDS } from '../fixtures/entries.js'

const NOW = 1_700_000_000_000
const TTL = 1000
const EPOCH = digestEpoch(TTL)

function replica(now: () => number): Replica {
  const node = PEER_IDS[0]
  return new Replica({ node, slot: `${node}/1`, clock: new Clock({ now, maxSkew: 10 * TTL }), tombstoneTtl: TTL })
}

/** The digest's line at `now`: the TTL before it, down to a multiple of the epoch. */
const lineAt = (now: number) => Math.floor((now - TTL) / EPOCH) * EPOCH

/** The root of the digest of what `r` holds, counted afresh at `now`'s line. */
function fromScratch(r: Replica, now: number): string {
  const line = lineAt(now)
  const digest = new Digest()
  for (const e of r.entries()) {
    const died = e.deleted ? e.wall : e.expiresAt
    if (died === 0 || died >= line) digest.toggle(hashEntry(e))
  }
  for (const c of r.counterSlots()) {
    const ends = c.window?.expiresAt ?? 0
    if (ends === 0 || ends >= line) digest.toggle(hashCounter(c))
  }
  return digest.root()
}

type Op =
  | { save: number; ttl: number }
  | { remove: number }
  | { old: number; ago: number; removed: boolean }
  | { incr: number; ttl: number }
  | { wait: number }
  | { collect: true }

describe("the digest's line", () => {
  it('leaves out at each move what died before it, as a digest counted afresh does', () => {
    const key = fc.integer({ min: 0, max: 30 })
    const ttl = fc.constantFrom(0, 0, 10, EPOCH, 3 * EPOCH + 7)
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ save: key, ttl }),
      fc.record({ remove: key }),
      // A write received late: stamped up to two TTLs ago, dead or dying soon.
      fc.record({ old: key, ago: fc.integer({ min: 0, max: 2 * TTL }), removed: fc.boolean() }),
      fc.record({ incr: fc.integer({ min: 0, max: 8 }), ttl }),
      fc.record({ wait: fc.integer({ min: 1, max: 2 * EPOCH }) }),
      fc.record({ collect: fc.constant(true as const) })
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120, size: 'max' }), (ops) => {
        let now = NOW
        const r = replica(() => now)
        const other = PEER_IDS[1]
        let logical = 0
        for (const o of ops) {
          if ('save' in o) r.save('c', `k${o.save}`, o.save, o.ttl === 0 ? 0 : now + o.ttl)
          else if ('remove' in o) r.remove('c', `k${o.remove}`)
          else if ('old' in o)
            r.mergeEntry({
              collection: 'd',
              key: `k${o.old}`,
              wall: now - o.ago,
              logical: logical++,
              node: other,
              expiresAt: o.removed ? 0 : now - o.ago + TTL,
              deleted: o.removed,
              value: o.removed ? null : o.old
            })
          else if ('incr' in o) r.increment(`n${o.incr}`, 1, o.ttl === 0 ? 0 : now + o.ttl)
          else if ('wait' in o) now += o.wait
          else r.collect()
          r.ageDigest()
          expect(r.digest.root()).toBe(fromScratch(r, now))
        }
      }),
      { numRuns: 300 }
    )
  })

  it('moved in steps, with writes, removals, collections and new lines between them, ends as a digest counted afresh', () => {
    // Few keys: writes land on the positions a move is about to scan, at it, and just behind it.
    const key = fc.integer({ min: 0, max: 9 })
    // Collections: a few kept, and one made anew (a name not seen before) now and then.
    const collection = fc.constantFrom('c', 'c', 'd', 'new')
    const ttl = fc.constantFrom(0, 10, 10, EPOCH, 3 * EPOCH + 7)
    type StepOp =
      | { save: number; in: string; ttl: number }
      | { remove: number; in: string }
      | { old: number; in: string; ago: number; removed: boolean; forever: boolean }
      | { incr: number; ttl: number }
      | { wait: number }
      | { begin: number }
      | { step: number }
      | { collect: true }
      | { check: true }
    const op: fc.Arbitrary<StepOp> = fc.oneof(
      fc.record({ save: key, in: collection, ttl }),
      fc.record({ remove: key, in: collection }),
      // A write received late: stamped up to three TTLs ago; dead, dying, or (forever) never expiring.
      fc.record({
        old: key,
        in: collection,
        ago: fc.integer({ min: 0, max: 3 * TTL }),
        removed: fc.boolean(),
        forever: fc.boolean()
      }),
      fc.record({ incr: fc.integer({ min: 0, max: 4 }), ttl }),
      fc.record({ wait: fc.integer({ min: 1, max: 2 * EPOCH }) }),
      // A move in steps of a few positions, so that writes land on both sides of its scan.
      fc.record({ begin: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ step: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ collect: fc.constant(true as const) }),
      fc.record({ check: fc.constant(true as const) })
    )
    fc.assert(
      // size 'max': fast-check's default size keeps arrays to about ten operations, too few for a move to meet writes.
      fc.property(fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), (ops) => {
        let now = NOW
        const r = replica(() => now)
        const other = PEER_IDS[1]
        let logical = 0
        let made = 0
        let steps: Generator<void> | undefined
        const named = (name: string) => (name === 'new' ? `new${made++}` : name)
        for (const o of ops) {
          if ('save' in o) r.save(named(o.in), `k${o.save}`, o.save, o.ttl === 0 ? 0 : now + o.ttl)
          else if ('remove' in o) r.remove(o.in, `k${o.remove}`)
          else if ('old' in o)
            r.mergeEntry({
              collection: named(o.in),
              key: `k${o.old}`,
              wall: now - o.ago,
              logical: logical++,
              node: other,
              expiresAt: o.removed || o.forever ? 0 : now - o.ago + TTL,
              deleted: o.removed,
              value: o.removed ? null : o.old
            })
          else if ('incr' in o) r.increment(`n${o.incr}`, 1, o.ttl === 0 ? 0 : now + o.ttl)
          else if ('wait' in o) now += o.wait
          else if ('begin' in o) steps = r.ageDigestStepwise(o.begin)
          else if ('step' in o) for (let i = 0; i < o.step && steps?.next().done === false; i++);
          else if ('collect' in o) r.collect()
          else {
            r.ageDigest()
            expect(r.digest.root()).toBe(fromScratch(r, now))
          }
        }
        // Whatever was left half-way, the move ends exact.
        for (let i = 0; i < 10_000 && steps?.next().done === false; i++);
        r.ageDigest()
        expect(r.digest.root()).toBe(fromScratch(r, now))
      }),
      { numRuns: 1000 }
    )
  })

  it('moved in steps, counts an entry written at the scan, ahead of it or behind it where it is stored', () => {
    let now = NOW
    const r = replica(() => now)
    for (let i = 0; i < 12; i++) r.save('c', `k${i}`, i, now + 10)
    now += 3 * EPOCH
    const steps = r.ageDigestStepwise(3)
    steps.next()
    // Positions 0-2 are scanned, 3 is next: rewrite one behind, the one at the scan and one ahead.
    r.save('c', 'k1', 'behind', 0)
    r.save('c', 'k3', 'at', 0)
    r.remove('c', 'k7')
    for (let i = 0; i < 100 && steps.next().done === false; i++);
    expect(r.digest.root()).toBe(fromScratch(r, now))
  })

  it('moved in steps, leaves out a version dead since before the new line that is written where the scan has not been', () => {
    let now = NOW
    const r = replica(() => now)
    const other = PEER_IDS[1]
    for (let i = 1; i <= 3; i++) r.save('c', `k${i}`, i, 0)
    now += 3 * EPOCH
    // Received late: a version of k0 that never expires, written 2.5 TTLs ago, and k4's likewise.
    const late = (key: string, ago: number, deleted: boolean, collection = 'c') =>
      r.mergeEntry({
        collection,
        key,
        wall: now - ago,
        logical: 0,
        node: other,
        expiresAt: 0,
        deleted,
        value: deleted ? null : key
      })
    late('k0', 2.5 * TTL, false)
    const steps = r.ageDigestStepwise(1)
    steps.next()
    // k0 (position 3, ahead of the scan) and k4 (a position taken after the move began) are removed
    // by versions written 2 TTLs ago: dead between the line before and the new one.
    late('k0', 2 * TTL, true)
    late('k4', 2.5 * TTL, false)
    late('k4', 2 * TTL, true)
    // And a collection made after the move began, likewise.
    late('k0', 2.5 * TTL, false, 'z')
    late('k0', 2 * TTL, true, 'z')
    for (let i = 0; i < 100 && steps.next().done === false; i++);
    expect(r.digest.root()).toBe(fromScratch(r, now))
  })

  it('moved in steps, counts a counter written at the scan, ahead of it or behind it where it is stored', () => {
    let now = NOW
    const r = replica(() => now)
    // Counters are scanned first, one position a step here: windows that ended long ago.
    for (let i = 0; i < 6; i++) r.increment(`n${i}`, 1, now + 10)
    now += 3 * EPOCH
    const steps = r.ageDigestStepwise(1)
    steps.next()
    steps.next()
    // Positions 0 and 1 are scanned, 2 is next: count anew one behind, the one at the scan, one ahead.
    for (const n of ['n0', 'n2', 'n4']) r.increment(n, 1, now + 10)
    // And another writer's slot of the ended windows of n1 (behind) and n5 (ahead) arrives.
    for (const c of [...r.counterSlots()].filter((u) => u.counter === 'n1' || u.counter === 'n5'))
      r.mergeCounter({ ...c, slot: `${PEER_IDS[1]}/1`, inc: 3 })
    for (let i = 0; i < 100 && steps.next().done === false; i++);
    expect(r.digest.root()).toBe(fromScratch(r, now))
  })

  it('leaves out thousands of members dying within one epoch, some written twice or removed', () => {
    let now = NOW
    const r = replica(() => now)
    // 5,000 entries and 500 counters dying within one epoch, some of them written twice or removed.
    for (let i = 0; i < 5_000; i++) r.save('c', `k${i}`, i, now + 10 + (i % 100))
    for (let i = 0; i < 5_000; i += 7) r.save('c', `k${i}`, -i, now + 20)
    for (let i = 0; i < 5_000; i += 11) r.remove('c', `k${i}`)
    for (let i = 0; i < 500; i++) r.increment(`n${i}`, 1, now + 50)
    expect(r.digest.root()).toBe(fromScratch(r, now))
    for (let step = 0; step < 6; step++) {
      now += EPOCH
      r.ageDigest()
      expect(r.digest.root()).toBe(fromScratch(r, now))
    }
    // Every member died: collected, nothing is left in the digest.
    expect(r.collect()).toBe(5_500)
    expect(r.digest.root()).toBe(new Digest().root())
  })
})
