/**
 * A received frame merged column by column (Replica.mergeBatch, what sync does)
 * must leave a replica exactly as merging its entries one by one does: the same
 * entries, digest, counts, refusals and change events, whatever was there before.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { decodeMessage, encodeUpdates, readEntryFrame } from '../../src/codec/index.js'
import { Digest } from '../../src/store/digest.js'
import { Replica } from '../../src/store/replica.js'
import type { ChangeEvent, EntryUpdate } from '../../src/store/types.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

const NOW = 1_700_000_000_000
const MAX_SKEW = 5
const TTL = 1000

function replica(events?: ChangeEvent[]): Replica {
  return new Replica({
    node: 'self',
    slot: 'self/x',
    clock: new Clock({ now: () => NOW, maxSkew: MAX_SKEW }),
    tombstoneTtl: TTL,
    onChange: (e) => events?.push(e),
    hasChangeListeners: () => events !== undefined,
    hasStore: () => false
  })
}

/**
 * Entries over few names (ASCII and not), stamps around NOW (some too far ahead, some
 * old enough to be collected), tombstones, expiries and values from a small set, so that
 * every branch is met: newer, older, equal stamps with equal or different contents.
 */
const entry: fc.Arbitrary<EntryUpdate> = fc
  .record({
    collection: fc.constantFrom('c1', 'c2', 'cölle'),
    key: fc.constantFrom('k1', 'k2', 'k3', 'ключ', 'k🔑', 'a-longer-key-of-ascii-characters'),
    wall: fc.oneof(fc.integer({ min: NOW - 3, max: NOW + MAX_SKEW + 2 }), fc.constant(NOW - TTL - 10)),
    logical: fc.integer({ min: 0, max: 2 }),
    node: fc.constantFrom(PEER_IDS[0], PEER_IDS[1], PEER_IDS[2]),
    expiresAt: fc.constantFrom(0, NOW + 10_000, NOW - TTL - 5),
    deleted: fc.boolean()
  })
  .chain((u) => fc.constantFrom('x', 'y', { v: 1 }).map((v) => ({ ...u, value: u.deleted ? null : v })))

function snapshot(r: Replica): string {
  const entries = [...r.entries()].map((e) => JSON.stringify(e)).sort()
  return JSON.stringify({ entries, size: r.size(), digest: r.digest.root() })
}

/** Merges `incoming` as one frame into a replica that first merged `before` one by one; what it reports. */
function mergeFrame(before: EntryUpdate[], incoming: EntryUpdate[], batched: boolean, listen: boolean) {
  const events: ChangeEvent[] | undefined = listen ? [] : undefined
  const r = replica(events)
  for (const e of before) {
    try {
      r.mergeEntry(e, 'remote', NOW)
    } catch {
      // Too far ahead: refused here as in either merge below.
    }
  }
  events?.splice(0)
  const bytes = encodeUpdates(
    incoming.map((update) => ({ update })),
    []
  )
  const received = new Digest()
  const rejected: string[] = []
  let stored = 0
  if (batched) {
    const frame = readEntryFrame(bytes, limits)
    if (frame === undefined) throw new Error('not an UPDATES frame')
    stored = r.mergeBatch(frame.batch, 0, frame.batch.length, NOW, received, (e, err) =>
      rejected.push(`${e.key}: ${(err as { code?: string }).code}`)
    )
  } else {
    const decoded = decodeMessage(bytes, limits)
    if (decoded.type !== 'updates') throw new Error('not an UPDATES message')
    for (const e of decoded.entries) {
      try {
        if (r.mergeEntry(e, 'remote', NOW, received)) stored++
      } catch (err) {
        rejected.push(`${e.key}: ${(err as { code?: string }).code}`)
      }
    }
  }
  return { state: snapshot(r), received: received.root(), rejected, stored, events, clock: r.clock.current }
}

describe('merging a received frame column by column', () => {
  for (const listen of [false, true]) {
    it(`stores, counts and refuses as merging entry by entry (${listen ? 'with' : 'without'} change listeners)`, () => {
      fc.assert(
        fc.property(fc.array(entry, { maxLength: 20 }), fc.array(entry, { maxLength: 30 }), (before, incoming) => {
          const batched = mergeFrame(before, incoming, true, listen)
          const single = mergeFrame(before, incoming, false, listen)
          expect(batched.state).toBe(single.state)
          expect(batched.received).toBe(single.received)
          expect(batched.rejected).toEqual(single.rejected)
          expect(batched.stored).toBe(single.stored)
          expect(batched.events).toEqual(single.events)
          // The clock lies past every stamp merged (its logical part may differ: received once, not per entry).
          expect(batched.clock.wall).toBe(single.clock.wall)
        })
      )
    })
  }

  it('moves the clock past an entry before its listener hears of it, so a write in answer wins', () => {
    const r = new Replica({
      node: 'self',
      slot: 'self/x',
      clock: new Clock({ now: () => NOW, maxSkew: MAX_SKEW }),
      tombstoneTtl: TTL,
      hasStore: () => false,
      onChange: (e) => {
        if (e.type === 'save' && e.origin === 'remote') r.save('c', 'k', 'answer', 0)
      }
    })
    // A peer whose clock runs 3 ms ahead (within the skew limit) wrote first.
    const remote = { collection: 'c', key: 'k', wall: NOW + 3, logical: 0, node: PEER_IDS[0], expiresAt: 0 }
    const frame = readEntryFrame(encodeUpdates([{ update: { ...remote, deleted: false, value: 'first' } }], []), limits)
    if (frame === undefined) throw new Error('not an UPDATES frame')
    r.mergeBatch(frame.batch, 0, frame.batch.length, NOW)
    expect(r.get('c', 'k')).toBe('answer')
  })

  it('refuses a stamp too far ahead with ERR_CLOCK_SKEW and merges the rest', () => {
    const base = { collection: 'c', logical: 0, node: PEER_IDS[0], expiresAt: 0, deleted: false, value: 'v' }
    const ahead = { ...base, key: 'ahead', wall: NOW + MAX_SKEW + 1 }
    const fine = { ...base, key: 'fine', wall: NOW }
    const result = mergeFrame([], [ahead, fine], true, false)
    expect(result.rejected).toEqual(['ahead: ERR_CLOCK_SKEW'])
    const keys = (JSON.parse(result.state).entries as string[]).map((e) => JSON.parse(e).key)
    expect(keys).toEqual(['fine'])
  })
})
