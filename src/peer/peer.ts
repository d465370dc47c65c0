/**
 * The peer: on the libp2p node create.ts built, has parts.ts build and wire the replica,
 * persistence, gossip, sync (with its membership), the dialer, the clock probe and
 * rendezvous, and owns their lifecycle. Data flows one way: API → replica (local apply) → gossip
 * (broadcast); gossip and sync → codec → replica (merge).
 */
import '../polyfill.js'
import { EventEmitter } from 'node:events'
import type { PeerId } from '@libp2p/interface'
import type { ClockProbe } from '../clock/probe.js'
import type {
  Callback,
  CollectionConfig,
  CounterChangeConfig,
  CounterConfig,
  IterateConfig,
  Json,
  KeyConfig,
  KeysConfig,
  KeysPage,
  PeerEvents,
  PeerOptions,
  PeerStatus,
  SaveConfig,
  SharedMemPeer,
  TouchConfig
} from '../contract.js'
import { stoppedError } from '../errors.js'
import type { Gossip } from '../gossip/index.js'
import type { Persistence } from '../persist/index.js'
import type { DataDirLock } from '../persist/lock.js'
import type { Replica } from '../store/replica.js'
import type { Sync } from '../sync/index.js'
import type { Membership } from '../sync/membership.js'
import { settle } from '../util/callback.js'
import { iterateKeys } from '../util/iterate.js'
import { Rejections } from '../util/rejections.js'
import type { parseAddress } from './addresses.js'
import type { ClockGate } from './clock-gate.js'
import type { Collector } from './collector.js'
import type { Dialer } from './dialer.js'
import type { InboundHandshakes } from './handshakes.js'
import type { PartLog } from './log.js'
import type { Neighbours } from './neighbours.js'
import type { SharedMemNode } from './node.js'
import { buildParts } from './parts.js'
import type { Readiness } from './readiness.js'
import type { Rendezvous } from './rendezvous.js'
import { peerStatus } from './status.js'
import { cancelPendingAddressUpdate } from './stop-timers.js'
import type { Verbs } from './verbs.js'

/** A started peer's lifecycle and verbs; {@link createPeer} (create.ts) builds and starts it. */
export class Peer extends EventEmitter<PeerEvents> implements SharedMemPeer {
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
  private readonly neighbours: Neighbours | undefined
  private readonly rejections = new Rejections((event) => {
    // Once per reason: a hostile peer must not be able to flood the log (status() counts them all).
    // A failed connection is logged once per host where it is seen (parts.ts).
    if (event.first && event.source !== 'connection')
      this.log.warn('rejected %s input (%s): %s', event.source, event.reason, event.message)
    this.emit('reject', event)
  })
  private readonly persistence: Persistence | undefined
  private readonly gate: ClockGate
  private readonly clockProbe: ClockProbe
  private readonly verbs: Verbs
  private readonly collector: Collector
  private readonly readiness: Readiness
  private readonly log: PartLog
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
    // Peers leave this one out of forwards while its announcement lists the other (neighbours.ts).
    this.dialer.announceSoon()
    this.emit('peer:leave', evt.detail.toString())
  }

  constructor(
    node: SharedMemNode,
    swarm: string,
    bootstrap: ReturnType<typeof parseAddress>[],
    options: PeerOptions,
    {
      lock,
      handshakes,
      neighbours
    }: { lock?: DataDirLock; handshakes?: InboundHandshakes; neighbours?: Neighbours } = {}
  ) {
    super()
    this.node = node
    this.swarm = swarm
    this.peerId = node.peerId.toString()
    const parts = buildParts({
      peer: this,
      peerId: this.peerId,
      node,
      swarm,
      bootstrap,
      options,
      lock,
      handshakes,
      neighbours,
      rejections: this.rejections,
      addresses: () => this.addresses,
      assertRunning: () => this.assertRunning(),
      running: () => this.state === 'started'
    })
    this.replica = parts.replica
    this.persistence = parts.persistence
    this.gossip = parts.gossip
    this.gate = parts.gate
    this.verbs = parts.verbs
    this.clockProbe = parts.clockProbe
    this.syncInterval = parts.syncInterval
    this.membership = parts.membership
    this.collector = parts.collector
    this.sync = parts.sync
    this.dialer = parts.dialer
    this.defaultRendezvous = parts.defaultRendezvous
    this.rendezvous = parts.rendezvous
    this.readiness = parts.readiness
    this.log = parts.log
    this.faults = options.faults
    this.neighbours = neighbours
    this.hasBootstrap = bootstrap.length > 0
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve
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
    this.readiness.start()
    this.dialer.start()
    try {
      await this.rendezvous?.start()
    } catch (err) {
      // A directory the user chose must work; the default one is a convenience: without it the
      // peer still joins by bootstrap addresses, and status().rendezvous says it is off.
      if (!this.defaultRendezvous) throw err
      this.log.warn('same-host discovery is off: %s', (err as Error).message)
      this.rendezvous = undefined
    }
    if (this.rendezvous === undefined) this.readiness.scanned(0)
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

  increment(config: CounterChangeConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.add('increment', config, 1), callback)
  }

  decrement(config: CounterChangeConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.add('decrement', config, -1), callback)
  }

  resetCounter(config: CounterConfig, callback?: Callback<true>): Promise<true> {
    return settle(() => this.verbs.resetCounter(config), callback)
  }

  getCounter(config: CounterConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.getCounter(config), callback)
  }

  clear(config: CollectionConfig, callback?: Callback<number>): Promise<number> {
    return settle(() => this.verbs.clear(config), callback)
  }

  touch(config: TouchConfig, callback?: Callback<boolean>): Promise<boolean> {
    return settle(() => this.verbs.touch(config), callback)
  }

  keys(config: KeysConfig, callback?: Callback<KeysPage>): Promise<KeysPage> {
    return settle(() => this.verbs.keys(config), callback)
  }

  iterate<T extends Json = Json>(config: IterateConfig): AsyncIterableIterator<[string, T]> {
    return iterateKeys<T>(this, config)
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
      dialer: this.dialer,
      ready: this.readiness.ready,
      startedAt: this.startedAt
    })
  }

  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.readiness.wait(options.signal)
  }

  async syncNow(): Promise<void> {
    this.assertRunning()
    await this.sync.syncAll(this.gossip.peers())
  }

  private assertRunning(): void {
    if (this.state !== 'started') throw stoppedError()
  }

  private async shutdown(): Promise<void> {
    this.state = 'stopping'
    this.readiness.stop()
    this.collector.stop()
    this.unwatchFaults?.()
    try {
      // First, so that no peer of this host dials one that is going away.
      await this.rendezvous?.stop()
      this.dialer.stop()
      this.neighbours?.clear()
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
      cancelPendingAddressUpdate(this.node)
      this.state = 'stopped'
    }
  }
}
