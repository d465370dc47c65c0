/**
 * The key index (store/key-index.ts) growing in steps: while a larger table fills beside the one
 * in use, keys are inserted and removed, freed slots are reused below and above the growth's
 * cursor, and every key must be found at every moment, through the switch to the larger table.
 * The index is driven as a space drives it (store/space.ts `claim`): before each insertion,
 * a rebuild in one go when the table is full, else a step of the growth.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Key } from '../../src/store/key.js'
import { type IndexedSlots, KeyIndex, STEPWISE_FROM } from '../../src/store/key-index.js'

/** Slots holding key numbers (-1: free), hashed by a function a test chooses (collisions included). */
class Slots implements IndexedSlots {
  readonly keys: number[] = []
  readonly free: number[] = []
  constructor(readonly hash: (key: number) => number) {}
  get slotLimit(): number {
    return this.keys.length
  }
  has(slot: number): boolean {
    return slot < this.keys.length && this.keys[slot] >= 0
  }
  hashOf(slot: number): number {
    return this.hash(this.keys[slot])
  }
  holds(slot: number, key: Key): boolean {
    return this.keys[slot] === Number(key)
  }
}

/** The index and its slots, as a space keeps them. */
class Indexed {
  readonly index: KeyIndex
  readonly slots: Slots
  rebuilds = 0
  growths = 0

  /** `stepwiseFrom`: every table from the smallest on grows in steps, unless a test says otherwise. */
  constructor(hash: (key: number) => number, stepwiseFrom = 16) {
    this.index = new KeyIndex(stepwiseFrom)
    this.slots = new Slots(hash)
  }

  add(key: number): void {
    const { index, slots } = this
    if (!index.hasRoom()) {
      this.rebuilds++
      const hashes = new Uint32Array(slots.slotLimit)
      for (let s = 0; s < slots.slotLimit; s++) if (slots.has(s)) hashes[s] = slots.hashOf(s)
      index.rebuild(index.size + 1, slots.slotLimit, hashes, (s) => slots.has(s))
    } else {
      const was = index.growing
      index.step(slots)
      if (was && !index.growing) {
        this.growths++
        expect(this.positions()).toBe(index.size)
      }
    }
    const slot = slots.free.pop() ?? slots.keys.length
    slots.keys[slot] = key
    index.insert(slot, slots.hash(key))
  }

  remove(key: number): void {
    const { index, slots } = this
    const slot = this.find(key)
    index.remove(slot, slots.hash(key))
    slots.keys[slot] = -1
    slots.free.push(slot)
  }

  find(key: number): number {
    return this.index.find(this.slots.hash(key), String(key), this.slots)
  }

  /**
   * Positions of the table in use that name a slot (exactly the keys held, or a removal was
   * missed), and whether its count of removed positions is right (it decides when growth starts).
   */
  positions(): number {
    const { table, removed } = this.index as unknown as { table: Int32Array; removed: number }
    expect(table.reduce((n, p) => (p === -1 ? n + 1 : n), 0)).toBe(removed)
    return table.reduce((n, p) => (p > 0 ? n + 1 : n), 0)
  }
}

const mix = (key: number): number => {
  let h = Math.imul(key ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

describe('key index growth', () => {
  it('finds every key and no removed one at every moment while a larger table fills in steps', () => {
    type Op = { add: number } | { remove: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ add: fc.nat({ max: 2000 }) }) },
      { weight: 2, arbitrary: fc.record({ remove: fc.nat({ max: 2000 }) }) }
    )
    // Full hashes, and hashes of few values: long probe runs of equal tags.
    const hashes = fc.constantFrom(
      mix,
      (k: number) => mix(k % 37),
      (k: number) => mix(k) & 0xff00ff00
    )
    fc.assert(
      fc.property(hashes, fc.array(op, { maxLength: 1000 }), (hash, ops) => {
        const x = new Indexed(hash)
        const held = new Set<number>()
        for (const o of ops) {
          if ('add' in o) {
            if (held.has(o.add)) continue
            x.add(o.add)
            held.add(o.add)
          } else {
            if (!held.has(o.remove)) continue
            x.remove(o.remove)
            held.delete(o.remove)
          }
          expect(x.index.size).toBe(held.size)
        }
        for (let k = 0; k <= 2000; k++) {
          const slot = x.find(k)
          if (held.has(k)) expect(x.slots.keys[slot]).toBe(k)
          else expect(slot).toBe(-1)
        }
        // Each growth ends before the table in use is full: no rebuild in one go is needed.
        expect(x.rebuilds).toBe(0)
        expect(x.positions()).toBe(held.size)
      }),
      { numRuns: 200 }
    )
  })

  it('counts a removed position that a moved slot fills as filled', () => {
    // Every key hashes alike: one probe run, so a moved slot lands on the position a removal left.
    const x = new Indexed(() => 0x12345670)
    for (let k = 0; k < 9; k++) x.add(k)
    expect(x.index.growing).toBe(true)
    // Slot 0, below the cursor: a removed position in the growing table too, which the next move fills.
    x.remove(0)
    x.add(9)
    expect(x.growths).toBe(1)
    expect(x.positions()).toBe(9)
  })

  it('reuses the slots just below and at the cursor of a growth half done', () => {
    const x = new Indexed(mix)
    const cursor = () => (x.index as unknown as { growth?: { cursor: number } }).growth?.cursor ?? -1
    let next = 0
    while (cursor() <= 0 && next < 10_000) x.add(next++)
    const at = cursor()
    // The cursor's slot is not in the growing table yet; the one below it is.
    const keys = [x.slots.keys[at - 1], x.slots.keys[at]]
    for (const k of keys) x.remove(k)
    x.add(next++)
    x.add(next++)
    expect(x.index.growing).toBe(true)
    while (x.index.growing && next < 20_000) x.add(next++)
    expect(x.index.growing).toBe(false)
    expect(x.positions()).toBe(next - 2)
    for (let k = 0; k < next; k++) {
      if (keys.includes(k)) expect(x.find(k)).toBe(-1)
      else expect(x.slots.keys[x.find(k)]).toBe(k)
    }
  })

  it('rebuilds a table smaller than STEPWISE_FROM in one go, never holding a second one, and grows the larger ones in steps', () => {
    const x = new Indexed(mix, STEPWISE_FROM)
    let next = 0
    // Up to 70 % of the last table below the size: grown in one go each time.
    while (next < (STEPWISE_FROM / 2) * 0.7) {
      x.add(next++)
      expect(x.index.growing).toBe(false)
    }
    const rebuilt = x.rebuilds
    expect(rebuilt).toBeGreaterThan(5)
    while (x.growths === 0 && next < 2 * STEPWISE_FROM) x.add(next++)
    expect(x.growths).toBe(1)
    expect(x.rebuilds).toBe(rebuilt)
    expect(x.positions()).toBe(next)
  })

  it('grows a table of many keys in steps, reusing freed slots on both sides of its cursor', () => {
    const x = new Indexed(mix)
    let oldest = 0
    let next = 0
    const check = () => {
      let wrong = 0
      for (let k = oldest; k < next; k++) if (x.slots.keys[x.find(k)] !== k) wrong++
      for (let k = Math.max(0, oldest - 100); k < oldest; k++) if (x.find(k) !== -1) wrong++
      expect(wrong).toBe(0)
    }
    // Every other round adds 3 keys and removes the oldest held: freed slots below and above any cursor.
    for (let round = 0; round < 40_000; round++) {
      for (let i = 0; i < 3; i++) x.add(next++)
      if (round % 2 === 0) x.remove(oldest++)
      if (round % 4999 === 0) check()
    }
    check()
    expect(x.index.size).toBe(next - oldest)
    expect(x.find(-5)).toBe(-1)
    expect(x.growths).toBeGreaterThan(10)
    expect(x.rebuilds).toBe(0)
  })
})
