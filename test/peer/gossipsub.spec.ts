import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeUpdates } from '../../src/codec/index.js'
import type { SharedMemPeer } from '../../src/index.js'
import {
  type ForwardingInternals,
  forwardSparingly,
  hasForwardingInternals,
  messageId
} from '../../src/peer/gossipsub.js'
import type { Neighbours } from '../../src/peer/neighbours.js'
import { createNode } from '../../src/peer/node.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

/** Resolves after `n` turns of the event loop's check phase. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

type IHaves = Array<{ topicID: string; messageIDs: Uint8Array[] }>

function fakeService(): ForwardingInternals & {
  calls: Array<[string, string[]]>
  gossip: Array<[string, IHaves]>
  heartbeats: number
  started: boolean
} {
  const service = {
    calls: [] as Array<[string, string[]]>,
    gossip: [] as Array<[string, IHaves]>,
    heartbeats: 0,
    started: true,
    idontwants: new Map<string, Map<string, number>>(),
    mesh: new Map([['t', new Set(['a', 'p', 'q', 'x'])]]),
    isStarted: () => service.started,
    forwardMessage: (id: string, _raw: unknown, _source?: string, exclude?: Set<string>) => {
      service.calls.push([id, [...(exclude ?? [])].sort()])
    },
    pushGossip: (peer: string, ihave: IHaves) => {
      service.gossip.push([peer, ihave])
    },
    heartbeat: async () => {
      service.heartbeats++
    }
  }
  return service
}

describe('message ids of unsigned messages', () => {
  const node = '12D3KooWExampleWriterPeerId000000000000000000000000'
  const write = (key: string, logical: number, value: string): EntryUpdate => ({
    collection: 'c',
    key,
    wall: 1_700_000_000_000,
    logical,
    node,
    expiresAt: 0,
    deleted: false,
    value
  })
  const frame = (...entries: EntryUpdate[]) =>
    encodeUpdates(
      entries.map((update) => ({ update })),
      []
    )
  const id = (data: Uint8Array) => Buffer.from(messageId({ data })).toString('hex')

  it('is the SHA-256 of every byte, short or long', () => {
    for (const data of [frame(write('k', 0, 'v')), frame(write('k', 0, 'x'.repeat(5000)))]) {
      expect(id(data)).toBe(createHash('sha256').update(data).digest('hex'))
    }
  })

  it('tells apart every distinct message: batches that differ only in their middle, or only in one byte', () => {
    const pad = 'x'.repeat(400)
    const batch = frame(write('a', 0, pad), write('b', 1, pad), write('c', 2, 'end'))
    expect(batch.byteLength).toBeGreaterThan(800)
    const ids = [
      batch,
      frame(write('a', 3, pad), write('b', 1, pad), write('c', 2, 'end')),
      frame(write('a', 0, pad), write('b', 1, pad), write('c', 2, 'END')),
      frame(write('a', 0, pad), write('b', 1, pad), write('c', 2, 'endx')),
      // The same first write, end and length: only the middle differs.
      frame(write('a', 0, pad), write('b', 1, 'y'.repeat(100) + 'x'.repeat(300)), write('c', 2, 'end'))
    ].map(id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(id(frame(write('a', 0, pad), write('b', 1, pad), write('c', 2, 'end')))).toBe(ids[0])
  })

  it('tells apart long keys that share a prefix, with equal values (a session refresh under a long key)', () => {
    const prefix = `session:${'p'.repeat(300)}:`
    const ids = Array.from({ length: 10 }, (_, i) => id(frame(write(`${prefix}${i}`, 0, 'same'.repeat(30)))))
    expect(new Set(ids).size).toBe(10)
  })
})

/**
 * Saves probes from `writer` until one reaches every one of `readers`: a forwarding peer's gossip
 * mesh forms on heartbeats (every second), and a message that reaches it before a reader is in its
 * mesh goes on only by sync. Once a probe crosses, the readers are in the mesh.
 */
async function probeUntilCrossed(writer: SharedMemPeer, readers: SharedMemPeer[]): Promise<void> {
  let probe = 0
  await waitFor(
    async () => {
      await writer.save({ collection: 'probe', key: 'p', variable: ++probe })
      return readers.every((r) => r.getSync({ collection: 'probe', key: 'p' }) !== null)
    },
    'a probe to cross',
    { timeout: 10_000, interval: 300 }
  )
}

describe('gossip forwarding', () => {
  it('forwards after the sockets are read again, leaving out peers that said IDONTWANT', async () => {
    const service = fakeService()
    forwardSparingly(service)
    service.idontwants.set('b', new Map([['m1', 0]]))
    service.forwardMessage('m1', { topic: 't' }, 'a')
    service.forwardMessage('m2', { topic: 't' }, 'a', new Set(['z']))
    expect(service.calls).toEqual([])
    // An IDONTWANT that arrives while the message is being merged still counts.
    service.idontwants.set('c', new Map([['m1', 0]]))
    await turns(3)
    expect(service.calls).toEqual([
      ['m1', ['b', 'c']],
      ['m2', ['z']]
    ])
    service.started = false
    service.forwardMessage('m3', { topic: 't' }, 'a')
    await turns(3)
    expect(service.calls).toHaveLength(2)
  })

  it("leaves out the publisher and the peers it sent the message to, and tells those the message's id on the next heartbeat", async () => {
    const service = fakeService()
    const data = new Uint8Array([1, 2, 3])
    // y is connected to the publisher but not in this peer's mesh: never forwarded to, nor told.
    forwardSparingly(service, (d) => (d === data ? { publisher: 'w', peers: ['a', 'p', 'q', 'x', 'y'] } : undefined))
    service.idontwants.set('x', new Map([['AAEC', 0]]))
    // From a, which the publisher also sent it to; x said IDONTWANT: told nothing more.
    service.forwardMessage('AAEC', { topic: 't', data }, 'a')
    service.forwardMessage('AAED', { topic: 't', data }, 'a')
    service.forwardMessage('BBBB', { topic: 't', data: new Uint8Array([9]) }, 'a')
    await turns(3)
    expect(service.calls).toEqual([
      ['AAEC', ['p', 'q', 'w', 'x']],
      ['AAED', ['p', 'q', 'w', 'x']],
      ['BBBB', []]
    ])
    expect(service.gossip).toEqual([])
    await service.heartbeat()
    expect(service.heartbeats).toBe(1)
    const told = service.gossip.map(([peer, ihave]) => [
      peer,
      ihave.map((h) => [h.topicID, h.messageIDs.map((id) => Buffer.from(id).toString('base64'))])
    ])
    expect(told).toEqual([
      ['p', [['t', ['AAEC', 'AAED']]]],
      ['q', [['t', ['AAEC', 'AAED']]]],
      ['x', [['t', ['AAED']]]]
    ])
    // Told once: the next heartbeat has nothing new to tell.
    await service.heartbeat()
    expect(service.gossip).toHaveLength(3)
  })

  it('applies to the gossipsub the node runs (fails if an upgrade moved what it relies on)', async () => {
    const node = await createNode({
      privateKey: await generateKeyPair('Ed25519'),
      listen: [],
      maxMessageBytes: 1024 * 1024,
      maxOutboundBuffer: 1024 * 1024,
      signMessages: false
    })
    try {
      const pubsub = node.services.pubsub
      expect(hasForwardingInternals(pubsub)).toBe(true)
      expect(Object.hasOwn(pubsub, 'forwardMessage')).toBe(true)
      // A publish is encoded once for every peer it goes to (node.ts).
      expect((pubsub as unknown as { opts: { batchPublish?: boolean } }).opts.batchPublish).toBe(true)
    } finally {
      await node.stop()
    }
  })

  it('carries a write across a peer to one the writer is not connected to', async () => {
    // A line: a — b — c. a and c each accept only b, so a's write reaches c only by b's forward
    // (sync, the other way, runs when they connect and then not for a minute).
    const options = { syncInterval: 60_000 }
    const b = await startPeer(options)
    const a = await startPeer({ ...options, allowPeers: [b.peerId], bootstrap: [b.addresses[0]] })
    const c = await startPeer({ ...options, allowPeers: [b.peerId], bootstrap: [b.addresses[0]] })
    await waitFor(() => b.status().peers.length === 2 && c.status().peers.includes(b.peerId), 'the line to form')
    await probeUntilCrossed(a, [c])
    await a.save({ collection: 'c', key: 'k', variable: 'x'.repeat(2000) })
    await waitFor(() => c.getSync({ collection: 'c', key: 'k' }) !== null, 'the forwarded write', { timeout: 5000 })
    expect(c.status().peers).not.toContain(a.peerId)
  })

  it('carries a write from one leaf of a star to every other, through the hub', async () => {
    const options = { syncInterval: 60_000 }
    const hub = await startPeer(options)
    const leaves = []
    for (let i = 0; i < 3; i++) {
      leaves.push(await startPeer({ ...options, allowPeers: [hub.peerId], bootstrap: [hub.addresses[0]] }))
    }
    await waitFor(() => hub.status().peers.length === 3, 'the star to form')
    const [a, ...others] = leaves
    await probeUntilCrossed(a, others)
    for (let i = 0; i < 20; i++) a.save({ collection: 'c', key: `k${i}`, variable: i })
    await waitFor(
      () => others.every((o) => Object.keys(o.getArraySync({ collection: 'c' })).length === 20),
      'the forwarded writes at every leaf',
      { timeout: 5000 }
    )
    for (const o of others) expect(o.status().peers).toEqual([hub.peerId])
  })

  it('a peer left out of a forward because it was thought to have the message asks for it after the next heartbeat', async () => {
    // A line w — r — p, with announcements a minute apart; r is then told, wrongly, that w and p
    // are connected: r leaves p out of its forwards of w's messages, and p gets them from r's
    // IHAVE (sync is a minute away too).
    const options = { syncInterval: 60_000, announceInterval: 60_000 }
    const r = await startPeer(options)
    const w = await startPeer({ ...options, allowPeers: [r.peerId], bootstrap: [r.addresses[0]] })
    const p = await startPeer({ ...options, allowPeers: [r.peerId], bootstrap: [r.addresses[0]] })
    await waitFor(() => r.status().peers.length === 2 && p.status().peers.includes(r.peerId), 'the line to form')
    await probeUntilCrossed(w, [p])
    // Not public API: what r believes of the others' connections.
    const neighbours = (r as unknown as { neighbours: Neighbours }).neighbours
    neighbours.announced([
      { peerId: w.peerId, addrs: [] },
      { peerId: p.peerId, addrs: [] }
    ])
    neighbours.announced([
      { peerId: p.peerId, addrs: [] },
      { peerId: w.peerId, addrs: [] }
    ])
    expect(neighbours.connectedTo(w.peerId)).toEqual([p.peerId])
    const synced = p.status().sync.entriesReceived
    await w.save({ collection: 'c', key: 'k', variable: 'late' })
    // Well before the next periodic sync (a minute away), and with no sync round meanwhile: by IHAVE.
    await waitFor(() => p.getSync({ collection: 'c', key: 'k' }) === 'late', 'the write, by IHAVE and IWANT', {
      timeout: 30_000
    })
    expect(p.status().peers).not.toContain(w.peerId)
    expect(p.status().sync.entriesReceived).toBe(synced)
  })
})
