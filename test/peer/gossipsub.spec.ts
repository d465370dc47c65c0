import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeUpdates } from '../../src/codec/index.js'
import {
  type ForwardingInternals,
  hasForwardingInternals,
  honourIdontwant,
  messageId
} from '../../src/peer/gossipsub.js'
import { createNode } from '../../src/peer/node.js'
import type { EntryUpdate } from '../../src/store/types.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

/** Resolves after `n` turns of the event loop's check phase. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

function fakeService(): ForwardingInternals & { calls: Array<[string, string[]]>; started: boolean } {
  const service = {
    calls: [] as Array<[string, string[]]>,
    started: true,
    idontwants: new Map<string, Map<string, number>>(),
    isStarted: () => service.started,
    forwardMessage: (id: string, _raw: unknown, _source?: string, exclude?: Set<string>) => {
      service.calls.push([id, [...(exclude ?? [])].sort()])
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

describe('gossip forwarding', () => {
  it('forwards after the sockets are read again, leaving out peers that said IDONTWANT', async () => {
    const service = fakeService()
    honourIdontwant(service)
    service.idontwants.set('b', new Map([['m1', 0]]))
    service.forwardMessage('m1', {}, 'a')
    service.forwardMessage('m2', {}, 'a', new Set(['z']))
    expect(service.calls).toEqual([])
    // An IDONTWANT that arrives while the message is being merged still counts.
    service.idontwants.set('c', new Map([['m1', 0]]))
    await turns(3)
    expect(service.calls).toEqual([
      ['m1', ['b', 'c']],
      ['m2', ['z']]
    ])
    service.started = false
    service.forwardMessage('m3', {}, 'a')
    await turns(3)
    expect(service.calls).toHaveLength(2)
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
    // b forwards along its gossip mesh, which forms on heartbeats (every second); a message that
    // reaches b before c is in it goes to c by sync. Probe until one crosses, then c is in the mesh.
    let probe = 0
    await waitFor(
      async () => {
        await a.save({ collection: 'probe', key: 'p', variable: ++probe })
        return c.getSync({ collection: 'probe', key: 'p' }) !== null
      },
      'a probe to cross',
      { timeout: 10_000, interval: 300 }
    )
    await a.save({ collection: 'c', key: 'k', variable: 'x'.repeat(2000) })
    await waitFor(() => c.getSync({ collection: 'c', key: 'k' }) !== null, 'the forwarded write', { timeout: 5000 })
    expect(c.status().peers).not.toContain(a.peerId)
  })
})
