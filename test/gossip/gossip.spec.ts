/**
 * Gossip against a fake pubsub: what it publishes for local writes, and what it does with
 * each message delivered to it, without libp2p. Replicas are real; the bus records every
 * publish and delivers only when the test says so.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Clock } from '../../src/clock/index.js'
import { encodeAnnounce, encodeUpdates, type PeerAddrs } from '../../src/codec/index.js'
import {
  Gossip,
  type GossipInit,
  type GossipMessage,
  type PubSubLike,
  type SubscriptionChange
} from '../../src/gossip/index.js'
import { Replica } from '../../src/store/replica.js'
import { Rejections } from '../../src/util/rejections.js'
import { PEER_IDS } from '../fixtures/entries.js'
import { limits } from '../fixtures/limits.js'

const TOPIC = 'sharedmem/test'
const [A, B, C] = PEER_IDS

type Listener = (evt: CustomEvent<never>) => void

/** A PubSubLike that records publishes and delivers messages only when told to. */
class FakePubSub implements PubSubLike {
  readonly topics = new Set<string>()
  readonly published: Array<{ topic: string; data: Uint8Array }> = []
  subscribers: string[] = []
  failPublish = false
  private readonly listening = new Map<string, Set<Listener>>()

  subscribe(topic: string): void {
    this.topics.add(topic)
  }
  unsubscribe(topic: string): void {
    this.topics.delete(topic)
  }
  async publish(topic: string, data: Uint8Array): Promise<unknown> {
    if (this.failPublish) throw new Error('no route')
    this.published.push({ topic, data })
    return {}
  }
  getSubscribers(): Array<{ toString(): string }> {
    return this.subscribers
  }
  addEventListener(type: string, listener: Listener): void {
    const set = this.listening.get(type) ?? new Set()
    set.add(listener)
    this.listening.set(type, set)
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listening.get(type)?.delete(listener)
  }
  /** Listeners registered now, of every type. */
  get listeners(): number {
    return [...this.listening.values()].reduce((n, set) => n + set.size, 0)
  }
  /** Delivers a message as gossipsub would. */
  deliver(message: GossipMessage): void {
    this.dispatch('message', message)
  }
  subscriptionChange(change: SubscriptionChange): void {
    this.dispatch('subscription-change', change)
  }
  private dispatch(type: string, detail: unknown): void {
    for (const listener of this.listening.get(type) ?? [])
      listener(new CustomEvent(type, { detail }) as CustomEvent<never>)
  }
}

function replica(node: string): Replica {
  return new Replica({
    node,
    slot: `${node}/x`,
    clock: new Clock({ now: Date.now, maxSkew: 60_000 }),
    tombstoneTtl: 60_000
  })
}

const running: Gossip[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()))
})

/** A started Gossip on a fresh replica of `node` over a fresh fake pubsub. */
function gossip(node: string, init: Partial<GossipInit> = {}) {
  const pubsub = new FakePubSub()
  const rejections = new Rejections()
  const store = replica(node)
  const g = new Gossip({
    pubsub,
    topic: TOPIC,
    replica: store,
    limits,
    maxBatchEntries: 100,
    maxBatchBytes: 1 << 20,
    requireSignedOrigin: false,
    rejections,
    ...init
  })
  g.start()
  running.push(g)
  return { g, pubsub, rejections, store }
}

/** Waits for the flush that a write schedules (setImmediate), bounded. */
async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
}

describe('Gossip against a fake pubsub', () => {
  it('subscribes and listens while started, and leaves nothing behind once stopped (both idempotent)', async () => {
    const { g, pubsub } = gossip(A)
    g.start()
    expect([...pubsub.topics]).toEqual([TOPIC])
    expect(pubsub.listeners).toBe(2)
    pubsub.subscribers = [B]
    expect(g.peers()).toEqual([B])
    await g.stop()
    await g.stop()
    expect(pubsub.topics.size).toBe(0)
    expect(pubsub.listeners).toBe(0)
    expect(g.peers()).toEqual([])
  })

  it("publishes a turn's writes as one message, each key's latest write once, which another replica merges", async () => {
    const a = gossip(A)
    a.g.queueEntry(a.store.save('c', 'k', 1, 0))
    a.g.queueEntry(a.store.save('c', 'k', 2, 0))
    a.g.queueEntry(a.store.save('c', 'other', 'x', 0))
    a.g.queueCounter(a.store.increment('n', 3).update)
    await turn()
    expect(a.pubsub.published).toHaveLength(1)
    expect(a.g.stats.messagesOut).toBe(1)

    const b = gossip(B)
    b.pubsub.deliver(a.pubsub.published[0])
    expect(b.store.get('c', 'k')).toBe(2)
    expect(b.store.get('c', 'other')).toBe('x')
    expect(b.store.counter('n')).toBe(3)
    // Two entries (k once, its latest write) and one counter slot.
    expect(b.g.stats).toMatchObject({ messagesIn: 1, applied: 3, rejected: 0 })
    expect(b.store.digest.root()).toBe(a.store.digest.root())
  })

  it('splits a flush into messages of at most maxBatchEntries', async () => {
    const a = gossip(A, { maxBatchEntries: 10 })
    for (let i = 0; i < 25; i++) a.g.queueEntry(a.store.save('c', `k${i}`, i, 0))
    await turn()
    expect(a.pubsub.published).toHaveLength(3)
    const b = gossip(B)
    for (const m of a.pubsub.published) b.pubsub.deliver(m)
    expect(Object.keys(b.store.getArray('c'))).toHaveLength(25)
  })

  it('publishes nothing while isolated, and counts what it left to sync', async () => {
    const a = gossip(A, { isolated: () => true })
    a.g.queueEntry(a.store.save('c', 'k', 1, 0))
    a.g.queueCounter(a.store.increment('n', 1).update)
    await turn()
    expect(a.pubsub.published).toEqual([])
    expect(a.g.stats).toMatchObject({ messagesOut: 0, unsentIsolated: 2 })
  })

  it('counts a failed publish instead of throwing', async () => {
    const a = gossip(A)
    a.pubsub.failPublish = true
    a.g.queueEntry(a.store.save('c', 'k', 1, 0))
    await a.g.flush()
    expect(a.g.stats.publishErrors).toBe(1)
  })

  it('refuses a message that does not decode, changing nothing, and ignores other topics', () => {
    const b = gossip(B)
    const before = b.store.digest.root()
    b.pubsub.deliver({ topic: TOPIC, data: new Uint8Array([0xc1, 0xff, 0x00]) })
    expect(b.g.stats).toMatchObject({ messagesIn: 1, rejected: 1, applied: 0 })
    expect(b.rejections.counts['gossip:decode']).toBe(1)
    const a = replica(A)
    b.pubsub.deliver({ topic: 'elsewhere', data: encodeUpdates([{ update: a.save('c', 'k', 1, 0) }], []) })
    expect(b.g.stats.messagesIn).toBe(1)
    expect(b.store.digest.root()).toBe(before)
  })

  it('with requireSignedOrigin, applies only writes signed by their writer', () => {
    const b = gossip(B, { requireSignedOrigin: true })
    const a = replica(A)
    const data = encodeUpdates([{ update: a.save('c', 'k', 1, 0) }], [])
    b.pubsub.deliver({ topic: TOPIC, data })
    b.pubsub.deliver({ topic: TOPIC, data, type: 'signed', from: { toString: () => C } })
    expect(b.store.get('c', 'k')).toBeNull()
    expect(b.rejections.counts['gossip:forged-origin']).toBe(2)
    b.pubsub.deliver({ topic: TOPIC, data, type: 'signed', from: { toString: () => A } })
    expect(b.store.get('c', 'k')).toBe(1)
    expect(b.g.stats).toMatchObject({ messagesIn: 3, rejected: 2, applied: 1 })
  })

  it('announces through pubsub and hands the peers of an announcement received to onAnnounce', () => {
    const a = gossip(A)
    const peers: PeerAddrs[] = [{ peerId: A, addrs: ['/ip4/127.0.0.1/tcp/4001'] }]
    a.g.announce(peers)
    expect(a.pubsub.published).toHaveLength(1)
    const heard: PeerAddrs[][] = []
    const b = gossip(B, { onAnnounce: (p) => heard.push(p) })
    b.pubsub.deliver(a.pubsub.published[0])
    b.pubsub.deliver({ topic: TOPIC, data: encodeAnnounce([{ peerId: C, addrs: [] }], Date.now()) })
    expect(heard).toEqual([peers, [{ peerId: C, addrs: [] }]])
  })

  it('calls onSubscriber when a peer subscribes to its topic, not to another or on unsubscribing', () => {
    let calls = 0
    const a = gossip(A, { onSubscriber: () => calls++ })
    a.pubsub.subscriptionChange({ subscriptions: [{ topic: 'elsewhere', subscribe: true }] })
    a.pubsub.subscriptionChange({ subscriptions: [{ topic: TOPIC, subscribe: false }] })
    expect(calls).toBe(0)
    a.pubsub.subscriptionChange({ subscriptions: [{ topic: TOPIC, subscribe: true }] })
    expect(calls).toBe(1)
  })

  it('drops what dropIncoming says before counting it', () => {
    const b = gossip(B, { dropIncoming: () => true })
    const a = replica(A)
    b.pubsub.deliver({ topic: TOPIC, data: encodeUpdates([{ update: a.save('c', 'k', 1, 0) }], []) })
    expect(b.g.stats.messagesIn).toBe(0)
    expect(b.store.get('c', 'k')).toBeNull()
  })
})
