/**
 * What a peer believes of who is connected to whom (src/peer/neighbours.ts), from announcements,
 * and the publisher a gossip message names (codec's publisherOf).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeAnnounce, encodeUpdates, publisherOf } from '../../src/codec/index.js'
import { Neighbours } from '../../src/peer/neighbours.js'
import { PEER_IDS } from '../fixtures/entries.js'

const [A, B, C, D] = PEER_IDS
const announce = (sender: string, ...peers: string[]) => [sender, ...peers].map((peerId) => ({ peerId, addrs: [] }))

describe('neighbours', () => {
  it('counts two peers connected only while the fresh announcement of each lists the other', () => {
    const clock = { now: 0 }
    const n = new Neighbours({ maxAge: 1_000, maxAnnouncers: 16, now: () => clock.now })
    n.announced(announce(A, B, C))
    // B and C have not said so themselves.
    expect(n.connectedTo(A)).toEqual([])
    n.announced(announce(B, A))
    n.announced(announce(C, D))
    expect(n.connectedTo(A)).toEqual([B])
    expect(n.connectedTo(B)).toEqual([A])
    // A's connection to B closes: its next announcement says so.
    n.announced(announce(A, C))
    expect(n.connectedTo(A)).toEqual([])
    n.announced(announce(C, A))
    expect(n.connectedTo(A)).toEqual([C])
    // Announcements older than maxAge say nothing.
    clock.now = 1_001
    expect(n.connectedTo(A)).toEqual([])
    expect(n.connectedTo(D)).toEqual([])
  })

  it('remembers at most maxAnnouncers, forgetting the least recently heard', () => {
    const n = new Neighbours({ maxAge: 1_000, maxAnnouncers: 2, now: () => 0 })
    n.announced(announce(A, B))
    n.announced(announce(B, A))
    expect(n.connectedTo(A)).toEqual([B])
    n.announced(announce(C, A))
    // A was heard first, and is forgotten.
    expect(n.connectedTo(A)).toEqual([])
    n.announced([])
    n.clear()
    expect(n.connectedTo(B)).toEqual([])
  })

  it('names the publisher of an UPDATES message, and what it sent it to', () => {
    const n = new Neighbours({ maxAge: 1_000, maxAnnouncers: 16, now: () => 0 })
    n.announced(announce(A, B))
    n.announced(announce(B, A))
    const update = { collection: 'c', key: 'k', wall: 1, logical: 0, node: A, expiresAt: 0, deleted: false, value: 1 }
    expect(n.direct(encodeUpdates([{ update }], []))).toEqual({ publisher: A, peers: [B] })
    expect(n.direct(encodeAnnounce(announce(A, B), 0))).toBeUndefined()
  })
})

describe('publisherOf', () => {
  it("is an UPDATES message's first writer, or a counter slot's owner; undefined for anything else", () => {
    const slot = (node: string) => ({ counter: 'n', slot: `${node}/1`, inc: 1, dec: 0 })
    expect(
      publisherOf(encodeUpdates([], [{ ...slot(B), window: { wall: 1, logical: 0, node: C, expiresAt: 9 } }]))
    ).toBe(B)
    expect(publisherOf(encodeUpdates([], []))).toBeUndefined()
    // A reset carries every peer's slot: the publisher, numbered first, is named all the same.
    expect(publisherOf(encodeUpdates([], [slot(B), slot(C)], A))).toBe(A)
    expect(publisherOf(new Uint8Array())).toBeUndefined()
    // Whatever a publisher batches of its own writes, it is named; and no bytes make it throw.
    fc.assert(
      fc.property(
        fc.constantFrom(...PEER_IDS),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
        fc.boolean(),
        (node, keys, counter) => {
          const entries = keys.map((key, i) => ({
            update: { collection: 'c', key, wall: 1, logical: i, node, expiresAt: 0, deleted: false, value: i }
          }))
          const frame = encodeUpdates(entries, counter ? [slot(node)] : [])
          expect(publisherOf(frame)).toBe(keys.length > 0 || counter ? node : undefined)
        }
      )
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(() => publisherOf(bytes)).not.toThrow()
      })
    )
  })
})
