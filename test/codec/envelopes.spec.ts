/**
 * The bytes of every message but UPDATES (whose layout test/codec/codec.spec.ts covers): frozen
 * as hex, so that a change of encoder cannot change the wire format unseen, and held on random
 * input to the reference encoder of test/fixtures/msgpack.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeAnnounce, encodeLeave } from '../../src/codec/index.js'
import {
  encodeAck,
  encodeDeflated,
  encodeDigest,
  encodeDone,
  encodeLeaves,
  encodeRequest,
  type MemberRow
} from '../../src/codec/sync.js'
import { GROUPS, LEAVES_PER_GROUP } from '../../src/store/digest.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { pack } from '../fixtures/msgpack.js'

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
    expect(hex(encodeAck(200))).toBe('930701ccc8')
    expect(hex(encodeDeflated({ length: 65536, compressed: Uint8Array.of(0xde, 0xad) }))).toBe(
      '940801ce00010000c402dead'
    )
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
      fc.property(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 70_000 }), (length, compressed) => {
        expect(hex(encodeAck(length))).toBe(hex(pack([7, 1, length])))
        expect(hex(encodeDeflated({ length, compressed }))).toBe(hex(pack([8, 1, length, compressed])))
      }),
      { numRuns: 100 }
    )
  })
})
