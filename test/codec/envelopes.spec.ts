/**
 * The bytes of every message but UPDATES (whose layout test/codec/codec.spec.ts covers): frozen
 * as hex, so that a change of encoder cannot change the wire format unseen, and held on random
 * input to the reference encoder of test/fixtures/msgpack.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeAnnounce, encodeLeave } from '../../src/codec/index.js'
import {
  decodeSyncMessage,
  deflatedPayload,
  encodeAck,
  encodeDeflated,
  encodeDigest,
  encodeDone,
  encodeLeaves,
  encodeRequest,
  encodeStale,
  type MemberRow
} from '../../src/codec/sync.js'
import { ErrorCode, SharedMemError } from '../../src/errors.js'
import { GROUPS, LEAVES_PER_GROUP } from '../../src/store/digest.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { smallLimits } from '../fixtures/limits.js'
import { Ext, pack } from '../fixtures/msgpack.js'

const [A, B] = PEER_IDS
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** A peer id as MessagePack: a str8 header (its 52 characters) and its ASCII bytes. */
const id = (peerId: string) => `d934${Buffer.from(peerId).toString('hex')}`
const zeros = (bytes: number) => '00'.repeat(bytes)
/** Hash words as the wire carries them: little-endian bytes. */
const le = (words: Uint32Array) => {
  const bytes = Buffer.alloc(words.length * 4)
  for (const [i, w] of words.entries()) bytes.writeUInt32LE(w, i * 4)
  return new Uint8Array(bytes)
}
/** A time in ms since the epoch, past 32 bits: a float64. */
const SEEN = 1_767_225_600_123
const SEEN_HEX = 'cb4279b76daa87b000'

describe('message bytes, frozen', () => {
  it('ANNOUNCE and LEAVE', () => {
    const peers = [
      { peerId: A, addrs: ['/ip4/127.0.0.1/tcp/7400'] },
      { peerId: B, addrs: [] }
    ]
    expect(hex(encodeAnnounce(peers, SEEN))).toBe(
      `940201 92 92${id(A)} 91b7${Buffer.from('/ip4/127.0.0.1/tcp/7400').toString('hex')} 92${id(B)} 90 ${SEEN_HEX}`.replaceAll(
        ' ',
        ''
      )
    )
    expect(hex(encodeLeave(A, 300))).toBe(`940901${id(A)}cd012c`)
  })

  it('the sync messages', () => {
    const groups = new Uint32Array(GROUPS * 2)
    groups[0] = 0x01020304
    groups[groups.length - 1] = 0xffffffff
    const row: MemberRow = [
      [A, SEEN],
      [B, 0]
    ]
    // Hash words little-endian, in a bin16 of 512 bytes.
    expect(hex(encodeDigest('default', row, groups))).toBe(
      `950301a764656661756c74 92 92${id(A)}${SEEN_HEX} 92${id(B)}00 c50200 04030201${zeros(504)}ffffffff`.replaceAll(
        ' ',
        ''
      )
    )
    const leaves = new Uint32Array(2 * LEAVES_PER_GROUP * 2)
    leaves[1] = 7
    expect(hex(encodeLeaves([[A, 70_000]], [0, 63], leaves))).toBe(
      `950401 91 92${id(A)}ce00011170 92003f c50400 00000000 07000000${zeros(1016)}`.replaceAll(' ', '')
    )
    const mask = new Uint8Array(GROUPS * LEAVES_PER_GROUP)
    mask[0] = 1
    mask[9] = 1
    mask[mask.length - 1] = 1
    expect(hex(encodeRequest(mask))).toBe(`930501 c50200 0102${zeros(509)}80`.replaceAll(' ', ''))
    expect(hex(encodeDone())).toBe('920601')
    expect(hex(encodeStale())).toBe('920a01')
    expect(hex(encodeAck(200))).toBe('930701ccc8')
    expect(hex(encodeDeflated({ length: 65536, compressed: Uint8Array.of(0xde, 0xad) }))).toBe(
      '940801ce00010000c402dead'
    )
    expect(hex(encodeDeflated({ length: 3, compressed: new Uint8Array(255) }))).toBe(`94080103c4ff${zeros(255)}`)
    expect(hex(encodeDeflated({ length: 3, compressed: new Uint8Array(300) }))).toBe(`94080103c5012c${zeros(300)}`)
    expect(hex(encodeDeflated({ length: 3, compressed: new Uint8Array(70_000) }))).toBe(
      `94080103c600011170${zeros(70_000)}`
    )
  })
})

describe('message bytes, on random input', () => {
  const peerId = fc.constantFrom(...PEER_IDS)
  const time = fc.oneof(fc.nat(), fc.integer({ min: 0, max: 8.64e15 }))
  const row = fc.array(fc.tuple(peerId, time), { minLength: 1, maxLength: 20 })
  const text = fc.string({ maxLength: 300 })

  it('writes each message as the reference encoder writes its fields', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ peerId, addrs: fc.array(text, { maxLength: 40 }) }), { maxLength: 20 }),
        time,
        (peers, sentAt) => {
          const fields = [2, 1, peers.map((p) => [p.peerId, p.addrs]), sentAt]
          expect(hex(encodeAnnounce(peers, sentAt))).toBe(hex(pack(fields)))
          expect(hex(encodeLeave(peers[0]?.peerId ?? A, sentAt))).toBe(hex(pack([9, 1, peers[0]?.peerId ?? A, sentAt])))
        }
      ),
      { numRuns: 200 }
    )
    fc.assert(
      fc.property(
        text,
        row,
        fc.uniqueArray(fc.nat(GROUPS - 1), { maxLength: GROUPS }),
        fc.nat(),
        (swarm, members, groups, seed) => {
          const words = Uint32Array.from({ length: GROUPS * 2 }, (_, i) => (seed * (i + 1)) >>> 0)
          expect(hex(encodeDigest(swarm, members, words))).toBe(hex(pack([3, 1, swarm, members, le(words)])))
          const leaves = Uint32Array.from({ length: groups.length * LEAVES_PER_GROUP * 2 }, (_, i) => seed ^ i)
          expect(hex(encodeLeaves(members, groups, leaves))).toBe(hex(pack([4, 1, members, groups, le(leaves)])))
        }
      ),
      { numRuns: 100 }
    )
    fc.assert(
      fc.property(
        fc.nat(),
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 70_000 }),
          fc.constantFrom(127, 128, 255, 256, 65535, 65536).map((n) => new Uint8Array(n).fill(n & 0xff))
        ),
        (length, compressed) => {
          expect(hex(encodeAck(length))).toBe(hex(pack([7, 1, length])))
          expect(hex(encodeDeflated({ length, compressed }))).toBe(hex(pack([8, 1, length, compressed])))
        }
      ),
      { numRuns: 100 }
    )
  })
})

describe('message decoding', () => {
  const limits = smallLimits
  const decodeCode = expect.objectContaining({ code: ErrorCode.DECODE })
  const sync = (bytes: Uint8Array) => decodeSyncMessage(bytes, limits)
  const groups = new Uint32Array(GROUPS * 2).fill(9)
  const row: MemberRow = [[A, SEEN]]

  it('reads back what it writes', () => {
    const peers = [{ peerId: A, addrs: ['/ip4/127.0.0.1/tcp/1'] }]
    expect(decodeMessage(encodeAnnounce(peers, SEEN), limits)).toEqual({ type: 'announce', peers, sentAt: SEEN })
    expect(decodeMessage(encodeLeave(B, 1), limits)).toEqual({ type: 'leave', peerId: B })
    expect(sync(encodeDigest('s', row, groups))).toEqual({ type: 'digest', swarm: 's', row, groups })
    const leaves = new Uint32Array(LEAVES_PER_GROUP * 2).fill(0x01020304)
    expect(sync(encodeLeaves(row, [5], leaves))).toEqual({ type: 'leaves', row, groups: [5], leaves })
    const mask = new Uint8Array(GROUPS * LEAVES_PER_GROUP)
    mask[3] = 1
    expect(sync(encodeRequest(mask))).toEqual({ type: 'request', mask })
    expect(sync(encodeDone())).toEqual({ type: 'done' })
    expect(sync(encodeStale())).toEqual({ type: 'stale' })
    expect(sync(encodeAck(3))).toEqual({ type: 'ack', frames: 3 })
    expect(deflatedPayload(encodeDeflated({ length: 9, compressed: Uint8Array.of(1) }))).toEqual({
      length: 9,
      compressed: Uint8Array.of(1)
    })
  })

  it('refuses every field that breaks its layout, with ERR_DECODE', () => {
    const bits = new Uint8Array((GROUPS * LEAVES_PER_GROUP) / 8)
    const gossip: Array<[string, unknown]> = [
      ['no array', { not: 'an array' }],
      ['no version', [2]],
      ['an unknown type', [42, 1]],
      ['an unknown version', [2, 2, [], 0]],
      ['a type that is a string', ['2', 1, [], 0]],
      ['a field too many', [2, 1, [], 0, 0]],
      ['peers that are no list', [2, 1, 'x', 0]],
      ['too many peers', [2, 1, Array.from({ length: 257 }, () => [A, []]), 0]],
      ['a peer that is no peer id', [2, 1, [['someone', []]], 0]],
      ['too many addresses', [2, 1, [[A, Array.from({ length: 33 }, () => '/ip4/1.2.3.4')]], 0]],
      ['an address that is no multiaddr', [2, 1, [[A, ['ip4']]], 0]],
      ['an address too long', [2, 1, [[A, [`/${'a'.repeat(256)}`]]], 0]],
      ['a negative sentAt', [2, 1, [], -1]],
      ['a fractional sentAt', [9, 1, A, 1.5]],
      ['a leave of no peer', [9, 1, 'x', 1]],
      ['a timestamp extension', [9, 1, A, new Date(0)]]
    ]
    for (const [what, fields] of gossip)
      expect(() => decodeMessage(pack(fields), limits), what).toThrowError(decodeCode)
    const streams: Array<[string, unknown]> = [
      ['a digest of another length', [3, 1, 's', row, new Uint8Array(GROUPS * 8 - 1)]],
      ['a digest whose hashes are no bin', [3, 1, 's', row, [1, 2]]],
      ['a swarm name too long', [3, 1, 'x'.repeat(257), row, new Uint8Array(GROUPS * 8)]],
      ['an empty row', [3, 1, 's', [], new Uint8Array(GROUPS * 8)]],
      ['a row member that is no peer id', [3, 1, 's', [['x', 1]], new Uint8Array(GROUPS * 8)]],
      ['a row of triples', [3, 1, 's', [[A, 1, 2]], new Uint8Array(GROUPS * 8)]],
      ['too many row members', [3, 1, 's', Array.from({ length: 4097 }, () => [A, 1]), new Uint8Array(GROUPS * 8)]],
      ['a group twice', [4, 1, row, [1, 1], new Uint8Array(2 * LEAVES_PER_GROUP * 8)]],
      ['a group past the last', [4, 1, row, [GROUPS], new Uint8Array(LEAVES_PER_GROUP * 8)]],
      ['too many groups', [4, 1, row, Array.from({ length: GROUPS + 1 }, (_, i) => i), new Uint8Array(0)]],
      ['leaves of another length', [4, 1, row, [1], new Uint8Array(8)]],
      ['a request of another length', [5, 1, new Uint8Array(bits.byteLength + 1)]],
      ['a request without its bitmap', [5, 1]],
      ['an end with a field', [6, 1, 0]],
      ['a stale mark with a field', [10, 1, 0]],
      ['an acknowledgement of nothing', [7, 1, 0]],
      ['an acknowledgement of no number', [7, 1, 'x']],
      ['an ANNOUNCE on a sync stream', [2, 1, [], 0]],
      ['an extension', [6, 1, new Ext(5, Uint8Array.of(1))]]
    ]
    for (const [what, fields] of streams) expect(() => sync(pack(fields)), what).toThrowError(decodeCode)
    // Bytes after a whole message, and counts far beyond what the bytes hold.
    expect(() => sync(Uint8Array.of(0x92, 6, 1, 0xc0))).toThrowError(decodeCode)
    expect(() => sync(Uint8Array.of(0x93, 5, 1, 0xc6, 0xff, 0xff, 0xff, 0xff))).toThrowError(decodeCode)
    expect(() => sync(Uint8Array.of(0x95, 4, 1, 0xdd, 0xff, 0xff, 0xff, 0xff))).toThrowError(decodeCode)
    expect(() => decodeMessage(Uint8Array.of(0x94, 2, 1, 0xdd, 0xff, 0xff, 0xff, 0xff, 0), limits)).toThrowError(
      decodeCode
    )
    expect(() => deflatedPayload(Uint8Array.of(0x94, 8, 2, 1, 0xc4, 1, 0))).toThrowError(decodeCode)
    expect(() => deflatedPayload(Uint8Array.of(0x94, 8, 1, 1, 0xc4, 1, 0, 0))).toThrowError(decodeCode)
    expect(() => deflatedPayload(pack([8, 1, 1, 'not bytes']))).toThrowError(decodeCode)
  })

  it('never throws anything but ERR_DECODE on arbitrary well-formed MessagePack', () => {
    const anything = fc.anything({ maxDepth: 4, withMap: true, withSet: true, withDate: true, withTypedArray: true })
    const shaped = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 2), anything, anything, anything)
    const decoders = [(b: Uint8Array) => decodeMessage(b, limits), sync, deflatedPayload]
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          shaped,
          shaped.map((t) => t.slice(0, 3)),
          shaped.map((t) => t.slice(0, 4))
        ),
        (value) => {
          const bytes = pack(value)
          for (const decode of decoders) {
            try {
              decode(bytes)
            } catch (err) {
              expect(err).toBeInstanceOf(SharedMemError)
              expect((err as SharedMemError).code).toBe(ErrorCode.DECODE)
            }
          }
        }
      ),
      { numRuns: 2000 }
    )
  })
})
