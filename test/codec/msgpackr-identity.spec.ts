/**
 * The reference encoder and decoder of test/fixtures/msgpack.ts hold to msgpackr, the codec the
 * messages but UPDATES were written with until sharedmem wrote them itself: the tests that
 * compare sharedmem's bytes to the reference compare them to what msgpackr wrote.
 */
import fc from 'fast-check'
import { Packr, Unpackr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { acceptedJson } from '../fixtures/arbitraries.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { pack, unpack } from '../fixtures/msgpack.js'

// The options src/codec/base.ts used.
const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false })
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('the reference MessagePack encoder', () => {
  const boundaries = [0, 1, 31, 32, 255, 256, 65535, 65536, 70_000]
  const item = fc.oneof(
    acceptedJson(5),
    fc.double(),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.maxSafeNat(),
    fc.constantFrom(...boundaries).map((n) => 'é'.repeat(n >> 1) + 'x'.repeat(n & 1)),
    fc.constantFrom(...boundaries).map((n) => new Uint8Array(n).fill(7)),
    fc.uint8Array({ maxLength: 300 }),
    fc.constantFrom(...boundaries).map((n) => Array.from({ length: Math.min(n, 70_000) }, (_, i) => i & 0x7f)),
    fc.tuple(fc.constantFrom(2, 3, 4, 9), fc.constant(1), fc.constantFrom(...PEER_IDS), fc.maxSafeNat())
  )

  it('writes the bytes msgpackr writes and reads what msgpackr reads', () => {
    fc.assert(
      fc.property(item, (value) => {
        const ours = pack(value)
        expect(hex(ours)).toBe(hex(packr.pack(value)))
        expect(unpack(ours)).toEqual(unpackr.unpack(ours))
      }),
      { numRuns: 300 }
    )
  })
})
