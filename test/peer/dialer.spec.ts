/**
 * The dialer under a storm of announcements, against a fake libp2p node that
 * records every dial: what announcements make a peer remember and dial stays
 * within the limits (peers, addresses, dials at once, dials per interval,
 * announcements per sender, backoff), and an honest announcement is still
 * dialled. Fake timers drive the clock; nothing here touches the network.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeMessage, encodeAnnounce, type PeerAddrs } from '../../src/codec/index.js'
import * as defaults from '../../src/constants.js'
import { Dialer, type DialerLimits, type DialerNode } from '../../src/peer/dialer.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

const ANNOUNCE_INTERVAL = 10_000
const DIAL_TIMEOUT = 3_600_000

/** Peer ids made once: real ones, since the dialer parses them when it forgets a failed peer. */
const ids: string[] = []
beforeAll(async () => {
  const keys = await Promise.all(Array.from({ length: 3000 }, () => generateKeyPair('Ed25519')))
  ids.push(...keys.map((k) => peerIdFromPrivateKey(k).toString()))
})
let next = 0
/** A peer id no test used before. */
const fresh = (): string => {
  const id = ids[next++]
  if (id === undefined) throw new Error('out of test peer ids')
  return id
}

const addr = (peerId: string, port = 4001): string => `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
/** A peer listed with `n` well-formed addresses. */
const listed = (peerId: string, n = 32): PeerAddrs => ({
  peerId,
  addrs: Array.from({ length: n }, (_, i) => addr(peerId, 10_000 + i))
})

interface Dial {
  peerId: string
  addrs: string[]
  settle(ok: boolean): void
}

/**
 * A libp2p node that records dials. `answer` says what a dial does: stay pending until the test
 * settles it ('hang'), fail at once ('refuse'), or connect ('accept').
 */
function fakeNode(self: string, answer: 'hang' | 'refuse' | 'accept') {
  const dials: Dial[] = []
  const connected = new Set<string>()
  const deleted: string[] = []
  const peerAddrs = new Map<string, string[]>()
  const idOf = (id: string) => ({ toString: () => id })
  const node = {
    peerId: idOf(self),
    getMultiaddrs: () => [],
    getConnections: (peer?: { toString(): string }) =>
      [...connected]
        .filter((id) => peer === undefined || id === peer.toString())
        .map((id) => ({ remotePeer: idOf(id) })),
    peerStore: {
      get: async (peer: { toString(): string }) => {
        const addrs = peerAddrs.get(peer.toString())
        if (addrs === undefined) throw new Error('not found')
        return { addresses: addrs.map((a) => ({ multiaddr: { encapsulate: () => a } })) }
      },
      delete: async (peer: { toString(): string }) => {
        deleted.push(peer.toString())
      }
    },
    dial: (target: Multiaddr[], options: { signal: AbortSignal }) =>
      new Promise((resolve, reject) => {
        const addrs = target.map(String)
        const peerId = target[0]?.getPeerId() ?? ''
        const settle = (ok: boolean) => {
          if (!ok) return reject(new Error('connection refused'))
          connected.add(peerId)
          resolve({ remotePeer: idOf(peerId) })
        }
        dials.push({ peerId, addrs, settle })
        options.signal.addEventListener('abort', () => reject(new Error('aborted')))
        if (answer !== 'hang') settle(answer === 'accept')
      })
  }
  return { node: node as unknown as DialerNode, dials, connected, deleted, peerAddrs }
}

function start(fake: ReturnType<typeof fakeNode>, limits: Partial<DialerLimits> = {}) {
  const refused: Record<string, number> = {}
  const announced: PeerAddrs[][] = []
  const dialer = new Dialer({
    node: fake.node,
    bootstrap: [],
    redialInterval: 1_000_000,
    dialTimeout: DIAL_TIMEOUT,
    announce: (peers) => announced.push(peers),
    announceInterval: ANNOUNCE_INTERVAL,
    limits,
    onRefuse: (reason) => {
      refused[reason] = (refused[reason] ?? 0) + 1
    },
    now: () => Date.now()
  })
  dialer.start()
  stops.push(() => dialer.stop())
  return { dialer, refused, announced }
}

const stops: Array<() => void> = []
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
})
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
  vi.useRealTimers()
})

/** Lets settled dials finish (microtasks) without moving the clock. */
const settleTurns = () => vi.advanceTimersByTimeAsync(0)

/** This peer: a real id, since what it announces must decode (the first peer listed is itself). */
const SELF = PEER_IDS[9]
const {
  DEFAULT_ANNOUNCED_ADDRS_PER_PEER: ADDRS,
  DEFAULT_ANNOUNCED_PEERS_REMEMBERED: REMEMBERED,
  DEFAULT_ANNOUNCED_DIALS_IN_FLIGHT: IN_FLIGHT,
  DEFAULT_ANNOUNCED_DIAL_BURST: BURST,
  DEFAULT_ANNOUNCED_DIAL_INTERVAL: DIAL_INTERVAL,
  DEFAULT_ANNOUNCE_SENDER_BURST: SENDER_BURST,
  DEFAULT_ANNOUNCED_DIAL_BACKOFF: BACKOFF
} = defaults

describe('a storm of announcements', () => {
  it('remembers a bounded number of peers and addresses, and dials a few at a time', async () => {
    const fake = fakeNode(SELF, 'hang')
    const { dialer, refused } = start(fake)
    // Eight announcements, each from its own sender, of 255 invented peers × 32 addresses.
    for (let m = 0; m < 8; m++) {
      const sender = fresh()
      dialer.dialAnnounced([listed(sender), ...Array.from({ length: 254 }, () => listed(fresh()))])
    }
    await settleTurns()
    const held = dialer.announced
    expect(held.peers).toBeLessThanOrEqual(REMEMBERED)
    expect(held.addrs).toBeLessThanOrEqual(REMEMBERED * ADDRS)
    expect(held.senders).toBe(8)
    expect(fake.dials).toHaveLength(IN_FLIGHT)
    for (const dial of fake.dials) expect(dial.addrs.length).toBeLessThanOrEqual(ADDRS)
    expect(refused['announce-limit']).toBeGreaterThan(0)
    // Tokens come back, but no dial starts while as many as allowed hang.
    await vi.advanceTimersByTimeAsync(10 * DIAL_INTERVAL)
    expect(fake.dials).toHaveLength(IN_FLIGHT)
    fake.dials[0]?.settle(false)
    await settleTurns()
    expect(fake.dials).toHaveLength(IN_FLIGHT + 1)
  })

  it('dials at most a burst, then one per interval, however fast dials fail', async () => {
    const fake = fakeNode(SELF, 'refuse')
    const { dialer } = start(fake)
    dialer.dialAnnounced([listed(fresh()), ...Array.from({ length: 254 }, () => listed(fresh()))])
    await settleTurns()
    expect(fake.dials).toHaveLength(BURST)
    const steps = 20
    for (let i = 0; i < steps; i++) await vi.advanceTimersByTimeAsync(DIAL_INTERVAL)
    expect(fake.dials).toHaveLength(BURST + steps)
    // What libp2p stored about each peer that could not be reached is deleted again.
    expect(new Set(fake.deleted)).toEqual(new Set(fake.dials.map((d) => d.peerId)))
    expect(dialer.announced.failures).toBe(BURST + steps)
  })

  it('processes a few announcements per sender and interval, and refuses the rest', async () => {
    const fake = fakeNode(SELF, 'hang')
    const { dialer, refused } = start(fake)
    const sender = fresh()
    const tries = 10
    for (let i = 0; i < tries; i++) dialer.dialAnnounced([listed(sender, 1), listed(fresh(), 1)])
    await settleTurns()
    // The sender itself plus one new peer from each announcement processed.
    expect(dialer.announced.peers + dialer.announced.dialling).toBe(1 + SENDER_BURST)
    expect(refused['announce-rate']).toBe(tries - SENDER_BURST)
    await vi.advanceTimersByTimeAsync(ANNOUNCE_INTERVAL)
    for (let i = 0; i < tries; i++) dialer.dialAnnounced([listed(sender, 1), listed(fresh(), 1)])
    expect(dialer.announced.peers + dialer.announced.dialling).toBe(1 + 2 * SENDER_BURST)
  })

  it('keeps only addresses it could dial that name the announced peer, at most a few', async () => {
    const fake = fakeNode(SELF, 'hang')
    const { dialer, refused } = start(fake)
    const [good, junk, unparsable, other] = [fresh(), fresh(), fresh(), fresh()]
    dialer.dialAnnounced([
      {
        peerId: good,
        addrs: [
          addr(other), // names another peer
          `/dns4/attacker.example/tcp/1/p2p/${good}`, // would make this peer resolve a name
          `/ip4/127.0.0.1/udp/1/p2p/${good}`,
          `/ip4/127.0.0.1/tcp/1/p2p/${good}/p2p/${good}`,
          ...listed(good).addrs
        ]
      },
      { peerId: junk, addrs: [addr(other), '/not/a/multiaddr', `/dns4/x/tcp/1/p2p/${junk}`] },
      { peerId: unparsable, addrs: [`/ip4/999.1.1.1/tcp/1/p2p/${unparsable}`] }
    ])
    await settleTurns()
    expect(refused['announce-addrs']).toBe(2) // junk at once; unparsable when its turn to be dialled came
    expect(fake.dials.map((d) => d.peerId)).toEqual([good])
    const [dial] = fake.dials
    expect(dial?.addrs).toEqual(listed(good).addrs.slice(0, ADDRS))
  })

  it('ignores this peer and connected peers without remembering anything', async () => {
    const fake = fakeNode(SELF, 'hang')
    const connectedPeer = fresh()
    fake.connected.add(connectedPeer)
    const { dialer, refused } = start(fake)
    // Every dial slot busy, so that whatever is remembered stays in the book.
    dialer.dialAnnounced(Array.from({ length: IN_FLIGHT }, () => listed(fresh(), 1)))
    await settleTurns()
    dialer.dialAnnounced([listed(connectedPeer), listed(SELF)])
    await settleTurns()
    expect(fake.dials.map((d) => d.peerId)).not.toContain(connectedPeer)
    expect(dialer.announced.peers).toBe(0)
    expect(refused).toEqual({})
  })

  it('does not dial a peer whose dial failed again until its backoff has passed, doubled each time', async () => {
    const fake = fakeNode(SELF, 'refuse')
    const { dialer } = start(fake)
    const sender = fresh()
    const peer = fresh()
    const announce = () => dialer.dialAnnounced([listed(sender, 0), listed(peer)])
    const dialsOfPeer = () => fake.dials.filter((d) => d.peerId === peer).length
    announce()
    await settleTurns()
    expect(dialsOfPeer()).toBe(1)
    await vi.advanceTimersByTimeAsync(BACKOFF - 1)
    announce()
    await settleTurns()
    expect(dialsOfPeer()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    announce()
    await settleTurns()
    expect(dialsOfPeer()).toBe(2)
    await vi.advanceTimersByTimeAsync(BACKOFF)
    announce()
    await settleTurns()
    expect(dialsOfPeer()).toBe(2) // the second failure waits twice as long
    await vi.advanceTimersByTimeAsync(BACKOFF)
    announce()
    await settleTurns()
    expect(dialsOfPeer()).toBe(3)
  })

  it('dials the newest announcement first, so an honest peer is not stuck behind a flood', async () => {
    const fake = fakeNode(SELF, 'refuse')
    const { dialer } = start(fake)
    dialer.dialAnnounced([listed(fresh()), ...Array.from({ length: 254 }, () => listed(fresh()))])
    await settleTurns()
    expect(fake.dials).toHaveLength(BURST)
    const honest = fresh()
    dialer.dialAnnounced([listed(honest, 2)])
    await vi.advanceTimersByTimeAsync(DIAL_INTERVAL)
    expect(fake.dials.map((d) => d.peerId).at(-1)).toBe(honest)
  })

  it('forgets announced peers not announced again within their time to live', async () => {
    const fake = fakeNode(SELF, 'hang')
    const { dialer } = start(fake, { dialsInFlight: 1 })
    const [older, newer] = [fresh(), fresh()]
    dialer.dialAnnounced([listed(older, 1)])
    dialer.dialAnnounced([listed(newer, 1)])
    await settleTurns()
    expect(fake.dials.map((d) => d.peerId)).toEqual([older])
    await vi.advanceTimersByTimeAsync(defaults.DEFAULT_ANNOUNCED_PEER_TTL)
    fake.dials[0]?.settle(false)
    await settleTurns()
    expect(fake.dials).toHaveLength(1)
    expect(dialer.announced.peers).toBe(0)
  })

  it('connects an honest announced peer', async () => {
    const fake = fakeNode(SELF, 'accept')
    const { dialer } = start(fake)
    const honest = fresh()
    dialer.dialAnnounced([listed(honest, 2)])
    await settleTurns()
    expect([...fake.connected]).toEqual([honest])
    expect(fake.deleted).toEqual([])
    expect(dialer.announced).toMatchObject({ peers: 0, failures: 0, dialling: 0, dials: 1 })
  })
})

describe('announcing', () => {
  it('sends no more peers and addresses than receivers decode and keep', async () => {
    const fake = fakeNode(SELF, 'hang')
    for (let i = 0; i < 300; i++) {
      const peer = fresh()
      fake.connected.add(peer)
      fake.peerAddrs.set(peer, listed(peer, 40).addrs)
    }
    const { announced } = start(fake)
    await vi.advanceTimersByTimeAsync(ANNOUNCE_INTERVAL)
    const [peers] = announced
    expect(peers?.length).toBeGreaterThan(1)
    for (const peer of peers ?? []) expect(peer.addrs.length).toBeLessThanOrEqual(ADDRS)
    expect(decodeMessage(encodeAnnounce(peers ?? [], 1), limits)).toMatchObject({ type: 'announce' })
  })
})
