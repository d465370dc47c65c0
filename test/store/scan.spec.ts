/**
 * A whole replica as UPDATES frames straight from the store (store/scan.ts `encodeEverything`):
 * every entry once, in frames within the limits, the first ones smaller so that a joiner decodes
 * its first frames, with code not yet compiled, in small pieces.
 */
import { describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { decodeSyncMessage } from '../../src/codec/sync.js'
import { encodeEntryTuples } from '../../src/codec/updates.js'
import { Replica } from '../../src/store/replica.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

const DAY = 86_400_000

function replica(): Replica {
  const node = PEER_IDS[0]
  return new Replica({
    node,
    slot: `${node}/1`,
    clock: new Clock({ now: () => 1_700_000_000_000, maxSkew: DAY }),
    tombstoneTtl: DAY
  })
}

/** The frames' entry counts and sizes, and the keys they hold. */
function frames(r: Replica, entries: number, bytes: number): { counts: number[]; sizes: number[]; keys: string[] } {
  const counts: number[] = []
  const sizes: number[] = []
  const keys: string[] = []
  for (const batch of r.encodeEverything(entries, bytes, 4096)) {
    if (batch === undefined) continue
    const frame = encodeEntryTuples(batch.nodes, batch.entries, batch.count)
    const msg = decodeSyncMessage(frame, limits)
    if (msg.type !== 'frame') throw new Error(`a frame of type ${msg.type}`)
    counts.push(batch.count)
    sizes.push(batch.entries.byteLength)
    for (let i = 0; i < msg.batch.length; i++) keys.push(msg.batch.entry(i).key)
  }
  return { counts, sizes, keys }
}

describe('encodeEverything', () => {
  it('sends every entry once, the first frames a 64th of the limit and each twice the one before', () => {
    const r = replica()
    for (let i = 0; i < 20_000; i++) r.save('c', `k${i}`, i, 0)
    const { counts, keys } = frames(r, 2048, 1 << 22)
    expect(counts.slice(0, 8)).toEqual([32, 64, 128, 256, 512, 1024, 2048, 2048])
    expect(counts.slice(6, -1).every((n) => n === 2048)).toBe(true)
    expect(keys.length).toBe(20_000)
    expect(new Set(keys).size).toBe(20_000)
  })

  it('ramps the frames’ bytes as it ramps their entries, a value larger than a frame going alone', () => {
    const r = replica()
    for (let i = 0; i < 400; i++) r.save('c', `k${i}`, 'x'.repeat(i === 3 ? 300_000 : 1000), 0)
    const limit = 256 * 1024
    const { counts, sizes, keys } = frames(r, 8192, limit)
    // About 1 KB an entry: a first frame of 4 KiB holds 3 of them; the large value then goes alone.
    expect(counts.slice(0, 2)).toEqual([3, 1])
    expect(sizes[1]).toBeGreaterThan(300_000)
    for (let i = 2; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(Math.min(limit, (limit / 64) * 2 ** i))
    expect(Math.max(...sizes.slice(2))).toBeGreaterThan(limit / 2)
    expect(new Set(keys).size).toBe(400)
  })

  it('leaves out what a collection pass frees while a frame is being sent, in a space of its own or a shared one', () => {
    // The sender waits for credit and compression between frames: the collector may run meanwhile.
    for (const n of [1_000, 40]) {
      let now = 1_700_000_000_000
      const node = PEER_IDS[0]
      const r = new Replica({
        node,
        slot: `${node}/1`,
        clock: new Clock({ now: () => now, maxSkew: 5 }),
        tombstoneTtl: 1000
      })
      for (let i = 0; i < n; i++) r.save('c', `k${i}`, 'v'.repeat(100), i % 2 === 0 ? now + 100 : 0)
      const keys: string[] = []
      let first = true
      for (const batch of r.encodeEverything(8 * 64, 4 << 20, 1_000_000)) {
        if (batch === undefined) continue
        const msg = decodeSyncMessage(encodeEntryTuples(batch.nodes, batch.entries, batch.count), limits)
        if (msg.type !== 'frame') throw new Error(`a frame of type ${msg.type}`)
        for (let i = 0; i < msg.batch.length; i++) keys.push(msg.batch.entry(i).key)
        if (first) {
          // After the first frame: the even keys expired long ago and are collected.
          first = false
          now += 10_000
          expect(r.collect()).toBe(n / 2)
        }
      }
      // The first frame's 8 keys, then every key still held, each once.
      const held = [...r.entries()].map((e) => e.key)
      expect(new Set(keys).size).toBe(keys.length)
      expect(keys.slice(8).sort()).toEqual(held.filter((k) => !keys.slice(0, 8).includes(k)).sort())
    }
  })
})
