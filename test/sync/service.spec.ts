/**
 * The sync service against a fake libp2p node (`SyncNode`): two services joined by in-memory
 * streams, with no network. When it opens rounds, which running round a request for one joins,
 * and its lifecycle.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { ErrorCode } from '../../src/errors.js'
import { Replica } from '../../src/store/replica.js'
import { SYNC_PROTOCOL, Sync, type SyncInit, type SyncNode } from '../../src/sync/index.js'
import { Membership } from '../../src/sync/membership.js'
import { Rejections } from '../../src/util/rejections.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'
import { waitFor } from '../fixtures/wait.js'

const DAY = 86_400_000

/** A peer id as the service uses one: by its string. */
const id = (s: string) => ({ toString: () => s, equals: (o: unknown) => `${o}` === s })

/** One direction of an in-memory stream: what `sink` is given, `source` yields. */
function channel() {
  const queue: Uint8Array[] = []
  let ended = false
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  return {
    async sink(source: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>) {
      for await (const chunk of source) {
        queue.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
        notify()
      }
      ended = true
      notify()
    },
    end() {
      ended = true
      notify()
    },
    async *source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1_000_000; i++) {
        const chunk = queue.shift()
        if (chunk !== undefined) yield chunk
        else if (ended) return
        else await new Promise<void>((resolve) => (wake = resolve))
      }
    }
  }
}

/** Two ends of one stream. */
function streamPair() {
  const ab = channel()
  const ba = channel()
  const end = (out: ReturnType<typeof channel>, into: ReturnType<typeof channel>) => ({
    protocol: SYNC_PROTOCOL,
    sink: out.sink,
    source: into.source(),
    close: async () => {},
    abort: () => {
      out.end()
      into.end()
    }
  })
  return [end(ab, ba), end(ba, ab)] as const
}

type Handler = (data: { stream: unknown; connection: { remotePeer: unknown } }) => void

/** A fake node: handles and dials SYNC_PROTOCOL between the nodes of one `net`, and counts its streams. */
function fakeNode(self: string, net: Map<string, Map<string, Handler>>) {
  const events = new EventTarget()
  const handlers = new Map<string, Handler>()
  net.set(self, handlers)
  const node = {
    peerId: id(self),
    dialed: 0,
    handled: [] as string[],
    events,
    handle: async (protocol: string, handler: Handler) => {
      node.handled.push(protocol)
      handlers.set(protocol, handler)
    },
    unhandle: async (protocol: string) => {
      handlers.delete(protocol)
    },
    dialProtocol: async (peer: { toString(): string }, protocol: string) => {
      const handler = net.get(`${peer}`)?.get(protocol)
      if (handler === undefined) throw new Error(`${peer} does not handle ${protocol}`)
      node.dialed++
      const [mine, theirs] = streamPair()
      handler({ stream: theirs, connection: { remotePeer: id(self) } })
      return mine
    },
    getConnections: () => [...net.keys()].filter((p) => p !== self).map((p) => ({ remotePeer: id(p) })),
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events)
  }
  return node
}

const running: Sync[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
})

function service(
  self: string,
  net: Map<string, Map<string, Handler>>,
  interval = 60_000,
  more: Partial<SyncInit> = {}
) {
  const node = fakeNode(self, net)
  const replica = new Replica({ node: self, slot: `${self}/1`, clock: new Clock({ maxSkew: DAY }), tombstoneTtl: DAY })
  const membership = new Membership({ self, memberTimeout: DAY, now: replica.clock.now })
  const sync = new Sync({
    node: node as unknown as SyncNode,
    replica,
    swarm: 's',
    limits,
    interval,
    timeout: 60_000,
    chunkEntries: 64,
    chunkBytes: 64 * 1024,
    scanBatch: 256,
    window: 4,
    membership,
    swarmPeers: () => [...net.keys()].filter((p) => p !== self),
    rejections: new Rejections(),
    ...more
  })
  running.push(sync)
  return { node, replica, sync }
}

const identify = (peer: string, protocols: string[]) =>
  new CustomEvent('peer:identify', { detail: { peerId: id(peer), protocols } })

describe('sync service', () => {
  it('the smaller id opens a round with a newly identified peer that speaks the protocol, and it repairs both sides', async () => {
    const net = new Map()
    const [small, large] = [service(PEER_IDS[0], net), service(PEER_IDS[1], net)]
    await Promise.all([small.sync.start(), large.sync.start()])
    expect(small.node.handled).toEqual([SYNC_PROTOCOL])
    small.replica.save('c', 'from-small', 1, 0)
    large.replica.save('c', 'from-large', 2, 0)
    // The larger id, and a peer without the protocol, open nothing.
    large.node.events.dispatchEvent(identify(PEER_IDS[0], [SYNC_PROTOCOL]))
    small.node.events.dispatchEvent(identify(PEER_IDS[1], ['/other/1.0.0']))
    small.node.events.dispatchEvent(identify(PEER_IDS[1], [SYNC_PROTOCOL]))
    await waitFor(() => small.sync.stats.rounds === 1 && large.sync.stats.rounds === 1, 'the round at both ends')
    expect([small.node.dialed, large.node.dialed]).toEqual([1, 0])
    expect(small.replica.get('c', 'from-large')).toBe(2)
    expect(large.replica.get('c', 'from-small')).toBe(1)
    expect(small.sync.stats).toMatchObject({ failures: 0, entriesSent: 1, entriesReceived: 1, lastRoundInSync: false })
    expect(small.sync.stats.bytesSent).toBeGreaterThan(0)
    expect(large.sync.stats.bytesReceived).toBeGreaterThan(0)
  })

  it('a round asked for while this side opens one with the same peer joins it', async () => {
    const net = new Map()
    const [a, b] = [service(PEER_IDS[0], net), service(PEER_IDS[1], net)]
    await Promise.all([a.sync.start(), b.sync.start()])
    for (let i = 0; i < 2_000; i++) a.replica.save('c', `k${i}`, i, 0)
    const first = a.sync.syncWith(PEER_IDS[1])
    const second = a.sync.syncWith(PEER_IDS[1])
    const results = await Promise.all([first, second])
    expect(results[0].sent).toBe(2_000)
    expect(results[1]).toBe(results[0])
    expect(a.node.dialed + b.node.dialed).toBe(1)
    expect([a.sync.stats.rounds, b.sync.stats.rounds]).toEqual([1, 1])
  })

  it('a round asked for while one runs that cannot hold what was written before (the other side opened it, or it took its digest) runs after it', async () => {
    const net = new Map()
    let asked: Promise<unknown>[] = []
    const [a, b] = [
      service(PEER_IDS[0], net, 60_000, {
        // While b's round runs, past both digests, each side writes and asks for a round, once.
        onProgress: ({ received }) => {
          if (asked.length > 0 || received === 0) return
          for (let i = 0; i < 50; i++) a.replica.save('c', `late${i}`, i, 0)
          b.replica.save('c', 'late-b', 1, 0)
          asked = [a.sync.syncWith(PEER_IDS[1]), b.sync.syncWith(PEER_IDS[0])]
        }
      }),
      service(PEER_IDS[1], net)
    ]
    await Promise.all([a.sync.start(), b.sync.start()])
    for (let i = 0; i < 2_000; i++) b.replica.save('c', `k${i}`, i, 0)
    const theirs = b.sync.syncWith(PEER_IDS[0])
    await waitFor(() => asked.length > 0, "the requests, while b's round runs")
    const [first, second, third] = await Promise.all([theirs, ...asked])
    for (let i = 0; i < 50; i++) expect(b.replica.get('c', `late${i}`)).toBe(i)
    expect(a.replica.get('c', 'late-b')).toBe(1)
    // Neither joined a round it could not rely on: each side opened one after the one it met.
    expect(new Set([first, second, third]).size).toBe(3)
    expect([a.node.dialed, b.node.dialed]).toEqual([1, 2])
  })

  it('a joiner that opens rounds with several peers at once sends its digest to one at a time, and is sent leaves once', async () => {
    const net = new Map()
    const joiner = service(PEER_IDS[0], net)
    const alone = service(PEER_IDS[1], net)
    const full = [service(PEER_IDS[2], net), service(PEER_IDS[3], net), service(PEER_IDS[4], net)]
    await Promise.all([joiner, alone, ...full].map((s) => s.sync.start()))
    for (let i = 0; i < 2_000; i++) {
      const update = full[0].replica.save('c', `k${i}`, i, 0)
      for (const peer of full.slice(1)) peer.replica.mergeEntry(update)
    }
    // One replica and its leaves: what a joiner that meets one peer is sent.
    await alone.sync.syncWith(PEER_IDS[2])
    await joiner.sync.syncAll(full.map((p) => `${p.node.peerId}`))
    expect(joiner.replica.getArray('c')).toEqual(full[0].replica.getArray('c'))
    expect(joiner.sync.stats.entriesReceived).toBe(2_000)
    // Each of the other two rounds costs a digest and no leaves (32 KB each when they went at once).
    expect(joiner.sync.stats.bytesReceived).toBeLessThan(alone.sync.stats.bytesReceived + 4_000)
  })

  it('an empty joiner answers a full peer with its leaves compressed: zeros, 32 KB as they are', async () => {
    const net = new Map()
    const [full, joiner] = [service(PEER_IDS[0], net), service(PEER_IDS[1], net)]
    await Promise.all([full.sync.start(), joiner.sync.start()])
    for (let i = 0; i < 2_000; i++) full.replica.save('c', `k${i}`, i, 0)
    await full.sync.syncWith(PEER_IDS[1])
    expect(joiner.sync.stats.entriesReceived).toBe(2_000)
    // Its LEAVES and acknowledgements.
    expect(joiner.sync.stats.bytesSent).toBeLessThan(2_000)
  })

  it('a round asked for behind one that does not end waits a bounded time, then opens its own', async () => {
    const net = new Map()
    const a = service(PEER_IDS[0], net, 60_000, { requestWait: 100 })
    await a.sync.start()
    // A peer that takes the stream and never answers.
    net.set(PEER_IDS[2], new Map([[SYNC_PROTOCOL, () => {}]]))
    void a.sync.syncWith(PEER_IDS[2]).catch(() => {})
    await waitFor(() => a.node.dialed === 1, 'the first round to open')
    void a.sync.syncWith(PEER_IDS[2]).catch(() => {})
    await waitFor(() => a.node.dialed === 2, 'a round of its own, alongside')
  })

  it('opens a round with a swarm peer every interval, on its own', async () => {
    const net = new Map()
    const [a, b] = [service(PEER_IDS[0], net, 20), service(PEER_IDS[1], net)]
    await Promise.all([a.sync.start(), b.sync.start()])
    await waitFor(() => a.sync.stats.rounds >= 2, 'two periodic rounds')
    expect(a.sync.stats.failures).toBe(0)
    expect(a.sync.stats.lastRoundInSync).toBe(true)
  })

  it('starts and stops once however often asked, and opens no round once stopped', async () => {
    const net = new Map()
    const a = service(PEER_IDS[0], net)
    await a.sync.start()
    await a.sync.start()
    expect(a.node.handled).toEqual([SYNC_PROTOCOL])
    await a.sync.stop()
    await a.sync.stop()
    expect(net.get(PEER_IDS[0])?.size).toBe(0)
    await expect(a.sync.syncWith(PEER_IDS[1])).rejects.toMatchObject({ code: ErrorCode.STOPPED })
  })
})
