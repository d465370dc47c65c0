/**
 * The peer: builds the libp2p node and wires the replica, persistence, gossip,
 * sync (with its membership), the dialer, the clock probe and rendezvous, and owns
 * their lifecycle. Data flows one way: API → replica (local apply) → gossip
 * (broadcast); gossip and sync → codec → replica (merge).
 */
import '../polyfill.js'
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { Clock } from '../clock/index.js'
import { ClockProbe } from '../clock/probe.js'
import type { DecodeLimits } from '../codec/index.js'
import * as defaults from '../constants.js'
import type {
  Callback,
  CollectionConfig,
  CounterConfig,
  Json,
  KeyConfig,
  PeerEvents,
  PeerOptions,
  PeerStatus,
  SaveConfig,
  SharedMemPeer
} from '../contract.js'
import { invalidArgument, stoppedError } from '../errors.js'
import { Gossip } from '../gossip/index.js'
import { Persistence } from '../persist/index.js'
import { type DataDirLock, lockDataDir } from '../persist/lock.js'
import { Replica } from '../store/replica.js'
import { Sync } from '../sync/index.js'
import { Membership } from '../sync/membership.js'
import { settle } from '../util/callback.js'
import { Rejections } from '../util/rejections.js'
import { parseAddress } from './addresses.js'
import { ClockGate, watchClock } from './clock-gate.js'
import { Collector } from './collector.js'
import { Dialer } from './dialer.js'
import { loadOrCreateIdentity } from './identity.js'
import { createNode, type SharedMemNode } from './node.js'
import { Rendezvous, resolveRendezvous } from './rendezvous.js'
import { peerStatus } from './status.js'
import { parseSwarmKey } from './swarm-key.js'
import { Verbs } from './verbs.js'

const log = logger('sharedmem:peer')

/** Starts a peer: listens, joins the swarm through `bootstrap`, and resolves once it can serve. */
export async function createPeer(options: PeerOptions = {}): Promise<SharedMemPeer> {
  if (options.durableWrites === true && options.dataDir === undefined) {
    throw invalidArgument('durableWrites needs a dataDir: without one, no write can be made durable')
  }
  // Before the identity is read or a port taken: a second process on this directory stops here.
  const lock = options.dataDir === undefined ? undefined : await lockDataDir(options.dataDir)
  try {
    return await startPeer(options, lock)
  } catch (err) {
    await lock?.release()
    throw err
  }
}

async function startPeer(options: PeerOptions, lock: DataDirLock | undefined): Promise<SharedMemPeer> {
  const listen = (options.listen ?? defaults.DEFAULT_LISTEN).map(parseAddress)
  const bootstrap = (options.bootstrap ?? []).map(parseAddress)
  const swarmKey = options.swarmKey === undefined ? undefined : parseSwarmKey(options.swarmKey)
  const allowed = options.allowPeers === undefined ? undefined : new Set(options.allowPeers)
  const identity =
    options.identity ?? (options.dataDir === undefined ? undefined : join(options.dataDir, 'identity.key'))
  const privateKey =
    options.privateKey ??
    (identity !== undefined ? await loadOrCreateIdentity(identity) : await generateKeyPair('Ed25519'))
  const swarm = options.swarm ?? defaults.DEFAULT_SWARM
  const node = await createNode({
    privateKey,
    listen,
    maxMessageBytes: options.maxMessageBytes ?? defaults.DEFAULT_MAX_MESSAGE_BYTES,
    maxOutboundBuffer: options.maxOutboundBuffer ?? defaults.DEFAULT_MAX_OUTBOUND_BUFFER,
    allowPeer: (id) => (allowed === undefined || allowed.has(id)) && options.faults?.blocked.has(id) !== true,
    swarmKey,
    signMessages: options.signMessages ?? false
  })
  const peer = new Peer(node, swarm, bootstrap, options, lock)
  try {
    await peer.start()
  } catch (err) {
    await peer.stop().catch(() => {})
    throw err
  }
  return peer
}

class Peer extends EventEmitter<PeerEvents> implements SharedMemPeer {
  readonly peerId: string
  private readonly node: SharedMemNode
  private readonly swarm: string
  private readonly replica: Replica
  private readonly gossip: Gossip
  private readonly dialer: Dialer
  private rendezvous: Rendezvous | undefined
  /** Whether the rendezvous directory is the default one (which may fail without failing the start). */
  private readonly defaultRendezvous: boolean
  private readonly sync: Sync
  private readonly membership: Membership
  private readonly syncInterval: number
  private readonly faults: PeerOptions['faults']
  private readonly rejections = new Rejections((event) => this.emit('reject', event))
  private readonly persistence: Persistence | undefined
  private readonly gate: ClockGate
  private readonly clockProbe: ClockProbe
  private readonly verbs: Verbs
  private readonly collector: Collector
  private unwatchFaults: (() => void) | undefined
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new'
  private stopping: Promise<void> | undefined
  /** Settles when stop() is called: what a wait at start gives up on. */
  private readonly stopped: Promise<void>
  private markStopped: () => void = () => {}
  /** Whether bootstrap peers were given: then the clock is measured before the peer serves. */
  private readonly hasBootstrap: boolean
  private startedAt = 0
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.emit('peer:join', evt.detail.toString())
  }
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.emit('peer:leave', evt.detail.toString())
  }

  constructor(
    node: SharedMemNode,
    swarm: string,
    bootstrap: ReturnType<typeof parseAddress>[],
    options: PeerOptions,
    lock?: DataDirLock
  ) {
    super()
    this.node = node
    this.swarm = swarm
    this.peerId = node.peerId.toString()
    const decode: DecodeLimits = {
      maxMessageBytes: options.maxMessageBytes ?? defaults.DEFAULT_MAX_MESSAGE_BYTES,
      maxMessageEntries: options.maxMessageEntries ?? defaults.DEFAULT_MAX_MESSAGE_ENTRIES,
      maxKeyLength: options.maxKeyLength ?? defaults.DEFAULT_MAX_KEY_LENGTH,
      maxValueBytes: options.maxValueBytes ?? defaults.DEFAULT_MAX_VALUE_BYTES,
      maxValueDepth: options.maxValueDepth ?? defaults.DEFAULT_MAX_VALUE_DEPTH
    }
    const clock = new Clock({ now: options.now, maxSkew: options.maxClockSkew ?? defaults.DEFAULT_MAX_CLOCK_SKEW })
    const clockWatch = watchClock(clock.maxSkew, (verdict) => this.emit('clock', verdict))
    this.replica = new Replica({
      node: this.peerId,
      // A fresh counter slot per incarnation: a restarted peer that lost its totals
      // must not reuse a slot whose higher totals other peers still hold.
      slot: `${this.peerId}/${randomBytes(6).toString('base64url')}`,
      clock,
      tombstoneTtl: options.tombstoneTtl ?? defaults.DEFAULT_TOMBSTONE_TTL,
      onChange: (event) => this.emit('change', event),
      hasChangeListeners: () => this.listenerCount('change') > 0,
      onStore: (update) => this.persistence?.record(update),
      hasStore: () => this.persistence !== undefined
    })
    this.persistence =
      options.dataDir === undefined
        ? undefined
        : new Persistence({
            dir: options.dataDir,
            replica: this.replica,
            limits: decode,
            fsyncInterval: options.fsyncInterval ?? defaults.DEFAULT_FSYNC_INTERVAL,
            compactBytes: options.compactBytes ?? defaults.DEFAULT_COMPACT_BYTES,
            chunkEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
            chunkBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
            onLoadProgress: options.onLoadProgress,
            lock
          })
    this.gossip = new Gossip({
      pubsub: node.services.pubsub,
      topic: `sharedmem/${swarm}/updates/1`,
      replica: this.replica,
      limits: decode,
      maxBatchEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
      maxBatchBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
      requireSignedOrigin: options.signMessages ?? false,
      rejections: this.rejections,
      onAnnounce: (peers) => this.dialer.dialAnnounced(peers),
      onLeave: (peerId) => this.membership.forget(peerId),
      onSubscriber: () => this.dialer.announceSoon(),
      isolated: () => node.getConnections().length === 0,
      dropIncoming: options.faults === undefined ? undefined : () => options.faults?.shouldDropGossip() === true
    })
    this.gate = new ClockGate(clockWatch, this.replica)
    this.verbs = new Verbs({
      replica: this.replica,
      gossip: this.gossip,
      gate: this.gate,
      persistence: this.persistence,
      limits: decode,
      maxEntries: options.maxEntries ?? Number.POSITIVE_INFINITY,
      durableWrites: options.durableWrites === true && options.dataDir !== undefined,
      assertRunning: () => this.assertRunning()
    })
    this.clockProbe = new ClockProbe({
      node,
      now: clock.now,
      watch: clockWatch,
      interval: options.clockProbeInterval ?? defaults.DEFAULT_CLOCK_PROBE_INTERVAL,
      timeout: options.dialTimeout ?? defaults.DEFAULT_DIAL_TIMEOUT,
      swarmPeers: () => this.gossip.peers()
    })
    this.faults = options.faults
    this.hasBootstrap = bootstrap.length > 0
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve
    })
    this.syncInterval = options.syncInterval ?? defaults.DEFAULT_SYNC_INTERVAL
    this.membership = new Membership({
      self: this.peerId,
      memberTimeout: options.memberTimeout ?? defaults.DEFAULT_MEMBER_TIMEOUT,
      now: clock.now,
      maxSkew: clock.maxSkew,
      onRetire: (member) =>
        log.error('member %s silent for longer than memberTimeout: retired; rounds with it are refused', member)
    })
    this.collector = new Collector({
      replica: this.replica,
      membership: this.membership,
      interval: options.collectInterval ?? defaults.DEFAULT_COLLECT_INTERVAL,
      maxSkew: clock.maxSkew,
      tombstoneTtl: options.tombstoneTtl ?? defaults.DEFAULT_TOMBSTONE_TTL,
      running: () => this.state === 'started'
    })
    this.sync = new Sync({
      node,
      replica: this.replica,
      swarm,
      limits: decode,
      interval: this.syncInterval,
      timeout: options.syncTimeout ?? defaults.DEFAULT_SYNC_TIMEOUT,
      chunkEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
      chunkBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
      scanBatch: defaults.DEFAULT_SYNC_SCAN_BATCH,
      window: defaults.DEFAULT_SYNC_WINDOW,
      membership: this.membership,
      swarmPeers: () => this.gossip.peers(),
      rejections: this.rejections,
      onRound: (event) => {
        if (this.persistence !== undefined) {
          this.persistence.lastSyncAt = this.sync.stats.lastSyncAt
          this.persistence.syncState = this.membership.toJSON()
        }
        this.emit('sync', event)
      },
      onProgress: (event) => this.emit('sync:progress', event)
    })
    this.dialer = new Dialer({
      node,
      bootstrap,
      announce: (peers) => this.gossip.announce(peers),
      announceInterval: options.announceInterval ?? defaults.DEFAULT_ANNOUNCE_INTERVAL,
      redialInterval: options.redialInterval ?? defaults.DEFAULT_REDIAL_INTERVAL,
      dialTimeout: options.dialTimeout ?? defaults.DEFAULT_DIAL_TIMEOUT,
      onRefuse: (reason, message) => this.rejections.record('gossip', reason, message)
    })
    const meeting = resolveRendezvous(options.rendezvous)
    this.defaultRendezvous = meeting?.checkDirOwner === true
    this.rendezvous =
      meeting === undefined
        ? undefined
        : new Rendezvous({
            ...meeting,
            swarm,
            peerId: this.peerId,
            addresses: () => this.addresses,
            interval: options.rendezvousInterval ?? defaults.DEFAULT_RENDEZVOUS_INTERVAL,
            onFound: (peers) => this.dialer.dialDiscovered(peers)
          })
  }

  get addresses(): string[] {
    return this.node.getMultiaddrs().map(String)
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'started'
    this.startedAt = Date.now()
    if (this.persistence !== undefined) {
      const loaded = await this.persistence.open()
      this.sync.stats.lastSyncAt = loaded.lastSyncAt
      // A replica whose members were lost cannot tell who still misses a removal: collect nothing for a while.
      if (!this.membership.load(loaded.syncState) && loaded.entries > 0) this.membership.distrust()
    }
    // The sync handler is registered before the node listens, so that identify
    // tells every peer, from the first connection on, that this one speaks it.
    await this.sync.start()
    await this.clockProbe.start()
    await this.node.start()
    this.node.addEventListener('peer:connect', this.onConnect)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.gossip.start()
    this.dialer.start()
    try {
      await this.rendezvous?.start()
    } catch (err) {
      // A directory the user chose must work; the default one is a convenience: without it the
      // peer still joins by bootstrap addresses, and status().rendezvous says it is off.
      if (!this.defaultRendezvous) throw err
      log('same-host discovery is off: %s', (err as Error).message)
      this.rendezvous = undefined
    }
    this.unwatchFaults = this.faults?.onChange(() => {
      for (const connection of this.node.getConnections()) {
        if (this.faults?.blocked.has(connection.remotePeer.toString())) void connection.close().catch(() => {})
      }
    })
    this.collector.start()
    // With bootstrap peers to measure against, serve once this clock was measured (or a while
    // passed): a wrong clock then refuses the first write instead of acknowledging it.
    if (this.hasBootstrap) await this.gate.firstReading(this.stopped)
  }

  stop(): Promise<void> {
    if (this.state === 'stopped') return Promise.resolve()
    this.markStopped()
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  save(config: SaveConfig, callback?: Callback<true>): Promise<true> {
    return settle(() => this.verbs.save(config), callback)
  }

  get<T extends Json = Json>(config: KeyConfig, callback?: Callback<T | null>): Promise<T | null> {
    return settle(() => this.verbs.get<T>(config), callback)
  }

  remove(config: KeyConfig, callback?: Callback<boolean>): Promise<boolean> {
    return settle(() => this.verbs.remove(config), callback)
  }

  getArray(config: CollectionConfig, callback?: Callback<Record<string, Json>>): Promise<Record<string, Json>> {
    return settle(() => this.verbs.getArray(config), callback)
  }

  increment(config: CounterConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.add('increment', config, 1), callback)
  }

  decrement(config: CounterConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.add('decrement', config, -1), callback)
  }

  getCounter(config: CounterConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.getCounter(config), callback)
  }

  getSync<T extends Json = Json>(config: KeyConfig): T | null {
    return this.verbs.get<T>(config)
  }

  getArraySync(config: CollectionConfig): Record<string, Json> {
    return this.verbs.getArray(config)
  }

  getCounterSync(config: CounterConfig): number {
    return this.verbs.getCounter(config)
  }

  collections(): string[] {
    this.assertRunning()
    return this.replica.collectionNames()
  }

  collectionSizes(): Record<string, number> {
    this.assertRunning()
    return Object.fromEntries(this.replica.collectionSizes())
  }

  status(): PeerStatus {
    return peerStatus({
      peerId: this.peerId,
      addresses: this.addresses,
      swarm: this.swarm,
      connections: this.node.getConnections().length,
      replica: this.replica,
      gossip: this.gossip,
      sync: this.sync,
      membership: this.membership,
      syncInterval: this.syncInterval,
      verbs: this.verbs,
      rejections: this.rejections,
      rendezvous: this.rendezvous,
      persistence: this.persistence,
      gate: this.gate,
      startedAt: this.startedAt
    })
  }

  async syncNow(): Promise<void> {
    this.assertRunning()
    await Promise.allSettled(this.gossip.peers().map((peer) => this.sync.syncWith(peer)))
  }

  private assertRunning(): void {
    if (this.state !== 'started') throw stoppedError()
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping'
    this.collector.stop()
    this.unwatchFaults?.()
    try {
      // First, so that no peer of this host dials one that is going away.
      await this.rendezvous?.stop()
      this.dialer.stop()
      await this.clockProbe.stop()
      await this.sync.stop()
      // Nothing of a memory-only peer outlives it: the others need not hold collection back for it.
      if (this.persistence === undefined) await this.gossip.leave(this.peerId)
      await this.gossip.stop()
      await this.persistence?.close()
    } finally {
      this.node.removeEventListener('peer:connect', this.onConnect)
      this.node.removeEventListener('peer:disconnect', this.onDisconnect)
      await this.node.stop()
      this.state = 'stopped'
    }
  }
}
