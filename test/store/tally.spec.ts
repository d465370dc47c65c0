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
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
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
