import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeAnnounce, encodeUpdates } from '../../src/codec/index.js'
import { ErrorCode, SharedMemError } from '../../src/errors.js'
import { type CounterUpdate, type CounterWindow, type EntryUpdate, FIRST_WINDOW } from '../../src/store/types.js'
import { MAX_DEADLINE } from '../../src/store/validate.js'
import { acceptedJson } from '../fixtures/arbitraries.js'
import { PEER_IDS, plain } from '../fixtures/entries.js'
import { smallLimits } from '../fixtures/limits.js'
import { pack } from '../fixtures/msgpack.js'

const N = PEER_IDS[0]

const limits = smallLimits

const json = acceptedJson(4)
const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.length <= 20)
const node = fc.constantFrom(...PEER_IDS.slice(0, 3))
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
/** Wall times and deadlines: a peer accepts none past MAX_DEADLINE. */
const time = fc.integer({ min: 0, max: MAX_DEADLINE })
const entry: fc.Arbitrary<EntryUpdate> = fc
  .record({
    collection: name,
    key: name,
    wall: time,
    logical: count,
    node,
    expiresAt: time,
    deleted: fc.boolean(),
    value: json
  })
  .map((e) => (e.deleted ? { ...e, value: null } : e))
const window: fc.Arbitrary<CounterWindow> = fc.oneof(
  fc.constant(FIRST_WINDOW),
  fc.record({
    wall: fc.integer({ min: 1, max: 8.64e15 }),
    logical: fc.nat(),
    node,
    expiresAt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8.64e15 }))
  })
)
/** A total and the part of it a reset saw. */
const total = fc.tuple(count, fc.double({ min: 0, max: 1, noNaN: true })).map(([n, f]) => [n, Math.floor(n * f)])
const counter: fc.Arbitrary<CounterUpdate> = fc
  .record({
    counter: name,
    slot: fc.tuple(node, fc.string({ maxLength: 8 })).map(([n, i]) => `${n}/${i}`),
    inc: total,
    dec: total,
    window
  })
  .map(({ inc, dec, ...c }) => ({ ...c, inc: inc[0], baseInc: inc[1], dec: dec[0], baseDec: dec[1] }))

const decodeCode = expect.objectContaining({ code: ErrorCode.DECODE })

describe('wire codec', () => {
  it('round-trips updates', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), fc.array(counter, { maxLength: 20 }), (entries, counters) => {
        const bytes = encodeUpdates(
          entries.map((update) => ({ update })),
          counters
        )
        const decoded = decodeMessage(bytes, limits)
        if (decoded.type !== 'updates') throw new Error('not an updates message')
        expect({ ...decoded, entries: decoded.entries.map(plain) }).toEqual({
          type: 'updates',
          entries,
          counters,
          refused: []
        })
      })
    )
  })

  it('round-trips announcements', () => {
    const peers = [
      { peerId: PEER_IDS[0], addrs: [`/ip4/127.0.0.1/tcp/1/p2p/${PEER_IDS[0]}`] },
      { peerId: PEER_IDS[1], addrs: [] }
    ]
    expect(decodeMessage(encodeAnnounce(peers, 5), limits)).toEqual({ type: 'announce', peers, sentAt: 5 })
  })

  it('never throws anything but ERR_DECODE on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          decodeMessage(bytes, limits)
        } catch (err) {
          expect(err).toBeInstanceOf(SharedMemError)
          expect((err as SharedMemError).code).toBe(ErrorCode.DECODE)
        }
      }),
      { numRuns: 2000 }
    )
  })

  it('never throws anything but ERR_DECODE on arbitrary well-formed MessagePack', () => {
    const anything = fc.anything({ maxDepth: 4, withMap: true, withSet: true, withDate: true, withTypedArray: true })
    const shaped = fc.tuple(fc.constantFrom(1, 2, 3), fc.constantFrom(1, 2), anything, anything, anything)
    fc.assert(
      fc.property(fc.oneof(anything, shaped), (value) => {
        let bytes: Uint8Array
        try {
          bytes = pack(value)
        } catch {
          return
        }
        try {
          decodeMessage(bytes, limits)
        } catch (err) {
          expect((err as SharedMemError).code).toBe(ErrorCode.DECODE)
        }
      }),
      { numRuns: 2000 }
    )
  })

  it('rejects unknown types and versions, and messages over the limits', () => {
    expect(() => decodeMessage(pack([9, 1, [], [], []]), limits)).toThrowError(decodeCode)
    expect(() => decodeMessage(pack([1, 3, [], [], []]), limits)).toThrowError(decodeCode)
    expect(() => decodeMessage(pack([2, 2, [], 0]), limits)).toThrowError(decodeCode)
    const many = Array.from({ length: 101 }, (_, i) => ({ counter: `c${i}`, slot: `${N}/1`, inc: 1, dec: 0 }))
    expect(() => decodeMessage(encodeUpdates([], many), limits)).toThrowError(decodeCode)
    expect(() => decodeMessage(new Uint8Array(limits.maxMessageBytes + 1), limits)).toThrowError(decodeCode)
  })

  it('leaves out (and lists) an entry whose value is too large, too deep or not JSON', () => {
    const refusedAlone = (bytes: Uint8Array) => {
      const decoded = decodeMessage(bytes, limits)
      if (decoded.type !== 'updates') throw new Error(`decoded as ${decoded.type}`)
      expect(decoded).toMatchObject({ entries: [], counters: [] })
      expect(decoded.refused.map((e) => (e as SharedMemError).code)).toEqual([ErrorCode.DECODE])
    }
    const base = { collection: 'c', key: 'k', wall: 1, logical: 0, node: N, expiresAt: 0, deleted: false }
    refusedAlone(encodeUpdates([{ update: { ...base, value: 'x'.repeat(5000) } }], []))
    let deep: unknown = 1
    for (let i = 0; i < 9; i++) deep = [deep]
    refusedAlone(encodeUpdates([{ update: { ...base, value: deep as never } }], []))
    refusedAlone(pack([1, 2, [N], [['c', 'k', 1, 0, 0, 0, false, new Date()]], []]))
  })

  it('refuses an UPDATES message of any layout but the current one whole (one wire format before 1.0)', () => {
    // Layout 1 carried each value as a nested MessagePack byte string; no peer or data file has it.
    const v1 = pack([1, 1, [N], [['c', 'k', 5, 1, 0, 0, false, pack({ a: [1, 'x'] })]], []])
    expect(() => decodeMessage(v1, limits)).toThrowError(decodeCode)
    expect(() => decodeMessage(pack([1, 3, [N], [], []]), limits)).toThrowError(decodeCode)
    // The current layout's fields under another array header than the one its writers write.
    const fix = pack([1, 2, [N], [], []])
    const other = Buffer.concat([Buffer.from([0xdc, 0, 5]), fix.subarray(1)])
    expect(() => decodeMessage(other, limits)).toThrowError(decodeCode)
    expect(decodeMessage(pack([1, 2, [N], [], []]), limits)).toMatchObject({ type: 'updates', entries: [] })
  })
})
