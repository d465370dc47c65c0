/**
 * One bad entry in an UPDATES message is left out, and its neighbours stand: a sender
 * that once stored something the rules refuse (an expiry past the latest deadline, a
 * name that is not UTF-8) must not take the innocent writes of its batch, a sync
 * round or a restart down with it.
 */
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeUpdates } from '../../src/codec/index.js'
import { ErrorCode } from '../../src/errors.js'
import type { CounterUpdate, EntryUpdate } from '../../src/store/types.js'
import { MAX_DEADLINE } from '../../src/store/validate.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { smallLimits } from '../fixtures/limits.js'

const limits = smallLimits

const NODE = PEER_IDS[0]
const entry = (key: string, overrides: Partial<EntryUpdate> = {}): EntryUpdate => ({
  collection: 'c',
  key,
  wall: 1_700_000_000_000,
  logical: 0,
  node: NODE,
  expiresAt: 0,
  deleted: false,
  value: key,
  ...overrides
})

const frame = (entries: EntryUpdate[], counters: CounterUpdate[] = []) =>
  encodeUpdates(
    entries.map((update) => ({ update })),
    counters
  )

/** `bytes` with the first occurrence of `from` replaced by `to` (same length). */
function patch(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const out = Uint8Array.from(bytes)
  for (let i = 0; i + from.length <= out.length; i++) {
    if (from.every((b, j) => out[i + j] === b)) {
      out.set(to, i)
      return out
    }
  }
  throw new Error('pattern not found')
}

describe('UPDATES with one bad entry', () => {
  it('keeps the good entries of a batch whose middle entry expires past the latest deadline', () => {
    for (const expiresAt of [MAX_DEADLINE + 1, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2]) {
      const msg = decodeMessage(frame([entry('a'), entry('bad', { expiresAt }), entry('z')]), limits)
      if (msg.type !== 'updates') throw new Error('not updates')
      expect(msg.entries.map((e) => e.key)).toEqual(['a', 'z'])
      expect(msg.refused).toHaveLength(1)
      expect(msg.refused[0]).toMatchObject({ code: ErrorCode.DECODE })
    }
  })

  it('accepts an expiry at the latest deadline itself', () => {
    const msg = decodeMessage(frame([entry('edge', { expiresAt: MAX_DEADLINE })]), limits)
    expect(msg).toMatchObject({ type: 'updates', refused: [], entries: [{ key: 'edge', expiresAt: MAX_DEADLINE }] })
  })

  it('refuses a key that is not UTF-8 instead of storing it as U+FFFD, and keeps the rest', () => {
    // 'é' is C3 A9 in UTF-8; C3 FF is no UTF-8 at all.
    const bytes = patch(frame([entry('a'), entry('xé'), entry('z')]), [0x78, 0xc3, 0xa9], [0x78, 0xc3, 0xff])
    const msg = decodeMessage(bytes, limits)
    if (msg.type !== 'updates') throw new Error('not updates')
    expect(msg.entries.map((e) => e.key)).toEqual(['a', 'z'])
    expect(msg.refused).toHaveLength(1)
  })

  it('refuses a counter slot whose name is not UTF-8, and keeps the other slots', () => {
    const counters: CounterUpdate[] = [
      { counter: 'ok', slot: `${NODE}/i`, inc: 1, dec: 0 },
      { counter: 'ñ', slot: `${NODE}/i`, inc: 2, dec: 0 }
    ]
    const bytes = patch(frame([entry('a')], counters), [0xc3, 0xb1], [0xc3, 0x41])
    const msg = decodeMessage(bytes, limits)
    if (msg.type !== 'updates') throw new Error('not updates')
    expect(msg.entries).toHaveLength(1)
    expect(msg.counters.map((c) => c.counter)).toEqual(['ok'])
    expect(msg.refused).toHaveLength(1)
  })

  it('refuses writers and counter owners that are not peer ids', () => {
    for (const node of ['zzzz', '12D3KooWA', 'QmC', `${NODE}x`, NODE.slice(0, -1)]) {
      expect(() => decodeMessage(frame([entry('a', { node })]), limits), node).toThrow(
        expect.objectContaining({ code: ErrorCode.DECODE })
      )
      expect(() => decodeMessage(frame([], [{ counter: 'n', slot: `${node}/i`, inc: 1, dec: 0 }]), limits)).toThrow(
        expect.objectContaining({ code: ErrorCode.DECODE })
      )
    }
    expect(decodeMessage(frame([entry('a')]), limits)).toMatchObject({ entries: [{ key: 'a', node: NODE }] })
  })

  it('still refuses the whole message when its MessagePack is broken', () => {
    const bytes = frame([entry('a'), entry('b')])
    expect(() => decodeMessage(bytes.subarray(0, bytes.length - 3), limits)).toThrow(
      expect.objectContaining({ code: ErrorCode.DECODE })
    )
  })
})
