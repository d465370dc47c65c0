/**
 * The parts of a peer, built from its options and wired to one another: the replica and its
 * persistence, gossip, the clock gate and probe, membership and sync, tombstone collection,
 * the dialer and rendezvous. The peer (peer.ts) owns their lifecycle.
 */
import { randomBytes } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { Clock } from '../clock/index.js'
import { ClockProbe } from '../clock/probe.js'
import type { DecodeLimits } from '../codec/index.js'
import * as defaults from '../constants.js'
import type { BootstrapAddressStatus, PeerEvents, PeerOptions } from '../contract.js'
import { Gossip } from '../gossip/index.js'
import { Persistence } from '../persist/index.js'
import type { DataDirLock } from '../persist/lock.js'
import { Replica } from '../store/replica.js'
import { Sync } from '../sync/index.js'
import { Membership } from '../sync/membership.js'
import type { Rejections } from '../util/rejections.js'
import type { parseAddress } from './addresses.js'
import { ClockGate, watchClock } from './clock-gate.js'
import { Collector } from './collector.js'
import { Dialer } from './dialer.js'
import type { InboundHandshakes } from './handshakes.js'
import { type PartLog, partLogs } from './log.js'
import type { Neighbours } from './neighbours.js'
import type { SharedMemNode } from './node.js'
import { Readiness } from './readiness.js'
import { Rendezvous, resolveRendezvous } from './rendezvous.js'
import { Verbs } from './verbs.js'

/** What the parts need of the peer that owns them. */
export interface PartsInit {
  /** The peer, which emits the parts' events. */
  peer: EventEmitter<PeerEvents>
  peerId: string
  node: SharedMemNode
  swarm: string
  bootstrap: ReturnType<typeof parseAddress>[]
  options: PeerOptions
  lock: DataDirLock | undefined
  /** Inbound handshakes as the node's gater saw them: a failed one is said once per host. */
  handshakes?: InboundHandshakes
  /** Who is connected to whom, learnt from announcements: forwards leave out who has a message already. */
  neighbours?: Neighbours
  rejections: Rejections
  /** The addresses the node listens on now. */
  addresses: () => string[]
  /** Throws unless the peer is started. */
  assertRunning: () => void
  /** Whether the peer is started. */
  running: () => boolean
}

export interface Parts {
  replica: Replica
  persistence: Persistence | undefined
  gossip: Gossip
  gate: ClockGate
  verbs: Verbs
  clockProbe: ClockProbe
  syncInterval: number
  membership: Membership
  collector: Collector
  sync: Sync
  dialer: Dialer
  /** Whether the rendezvous directory is the default one (which may fail without failing the start). */
  defaultRendezvous: boolean
  rendezvous: Rendezvous | undefined
  readiness: Readiness
  /** The peer's own log (`sharedmem:peer`), through the `logger` option when given. */
  log: PartLog
}

export function buildParts(hooks: PartsInit): Parts {
  const { peer, peerId, node, swarm, bootstrap, options, lock, rejections } = hooks
  const logs = partLogs(options.logger)
  const log = logs('sharedmem:peer')
  // Counted in status() each time (rejections connection:<problem>), said once per host.
  hooks.handshakes?.onFailure(({ problem, message, first }) => {
    rejections.record('connection', problem, message)
    if (first) log.warn('%s; further ones from there are only counted in status().rejections', message)
  })
  const decode: DecodeLimits = {
    maxMessageBytes: options.maxMessageBytes ?? defaults.DEFAULT_MAX_MESSAGE_BYTES,
    maxMessageEntries: options.maxMessageEntries ?? defaults.DEFAULT_MAX_MESSAGE_ENTRIES,
    maxKeyLength: options.maxKeyLength ?? defaults.DEFAULT_MAX_KEY_LENGTH,
    maxValueBytes: options.maxValueBytes ?? defaults.DEFAULT_MAX_VALUE_BYTES,
    maxValueDepth: options.maxValueDepth ?? defaults.DEFAULT_MAX_VALUE_DEPTH
  }
  const clock = new Clock({ now: options.now, maxSkew: options.maxClockSkew ?? defaults.DEFAULT_MAX_CLOCK_SKEW })
  const clockWatch = watchClock(
    clock.maxSkew,
    (verdict) => {
      clock.swarmLead = verdict.skewed ? verdict.offsetMs : 0
      peer.emit('clock', verdict)
    },
    log
  )
  const replica: Replica = new Replica({
    node: peerId,
    // A fresh counter slot per incarnation: a restarted peer that lost its totals
    // must not reuse a slot whose higher totals other peers still hold.
    slot: `${peerId}/${randomBytes(6).toString('base64url')}`,
    clock,
    tombstoneTtl: options.tombstoneTtl ?? defaults.DEFAULT_TOMBSTONE_TTL,
    onChange: (event) => peer.emit('change', event),
    hasChangeListeners: () => peer.listenerCount('change') > 0,
    onStore: (update) => persistence?.record(update),
    hasStore: () => persistence !== undefined
  })
  const persistence: Persistence | undefined =
    options.dataDir === undefined
      ? undefined
      : new Persistence({
          dir: options.dataDir,
          replica,
          limits: decode,
          fsyncInterval: options.fsyncInterval ?? defaults.DEFAULT_FSYNC_INTERVAL,
          compactBytes: options.compactBytes ?? defaults.DEFAULT_COMPACT_BYTES,
          chunkEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
          chunkBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
          onLoadProgress: options.onLoadProgress,
          lock,
          log: logs('sharedmem:persist')
        })
  const gossip = new Gossip({
    pubsub: node.services.pubsub,
    topic: `sharedmem/${swarm}/updates/1`,
    replica,
    limits: decode,
    maxBatchEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
    maxBatchBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
    requireSignedOrigin: options.signMessages ?? false,
    rejections,
    onAnnounce: (peers) => {
      hooks.neighbours?.announced(peers)
      dialer.dialAnnounced(peers)
    },
    onLeave: (peerId) => membership.forget(peerId),
    onSubscriber: () => dialer.announceSoon(),
    isolated: () => node.getConnections().length === 0,
    dropIncoming: options.faults === undefined ? undefined : () => options.faults?.shouldDropGossip() === true,
    log: logs('sharedmem:gossip')
  })
  const gate = new ClockGate(clockWatch, replica, log)
  const verbs = new Verbs({
    replica,
    gossip,
    gate: gate,
    persistence,
    limits: decode,
    maxEntries: options.maxEntries ?? Number.POSITIVE_INFINITY,
    durableWrites: options.durableWrites === true && options.dataDir !== undefined,
    assertRunning: hooks.assertRunning
  })
  const clockProbe = new ClockProbe({
    node,
    now: clock.now,
    watch: clockWatch,
    interval: options.clockProbeInterval ?? defaults.DEFAULT_CLOCK_PROBE_INTERVAL,
    timeout: options.dialTimeout ?? defaults.DEFAULT_DIAL_TIMEOUT,
    swarmPeers: () => gossip.peers(),
    log: logs('sharedmem:clock')
  })
  const syncInterval = options.syncInterval ?? defaults.DEFAULT_SYNC_INTERVAL
  // Once any peer connected, this one belongs to a swarm, even while cut off from it.
  let metPeer = false
  node.addEventListener('peer:connect', () => {
    metPeer = true
  })
  const readiness = new Readiness({
    wait: defaults.DEFAULT_READY_WAIT,
    connections: () => node.getConnections().length,
    bootstrapDialled: () => dialer.bootstrap.every((b) => b.state !== 'dialling'),
    onReady: () => log.info('ready: %s', sync.stats.rounds > 0 ? 'synced with a peer' : 'no one to meet')
  })
  // Alone again before a round ended: no one is left to wait for.
  node.addEventListener('peer:disconnect', () => readiness.check())
  const membership = new Membership({
    self: peerId,
    memberTimeout: options.memberTimeout ?? defaults.DEFAULT_MEMBER_TIMEOUT,
    now: clock.now,
    maxSkew: clock.maxSkew,
    expectsPeers: () => bootstrap.length > 0 || node.getConnections().length > 0 || metPeer,
    onRetire: (member) =>
      log.error('member %s silent for longer than memberTimeout: retired; rounds with it are refused', member)
  })
  const collector = new Collector({
    replica,
    membership,
    interval: options.collectInterval ?? defaults.DEFAULT_COLLECT_INTERVAL,
    maxSkew: clock.maxSkew,
    tombstoneTtl: options.tombstoneTtl ?? defaults.DEFAULT_TOMBSTONE_TTL,
    running: hooks.running
  })
  const sync = new Sync({
    node,
    replica,
    swarm,
    limits: decode,
    interval: syncInterval,
    timeout: options.syncTimeout ?? defaults.DEFAULT_SYNC_TIMEOUT,
    chunkEntries: options.maxBatchEntries ?? defaults.DEFAULT_MAX_BATCH_ENTRIES,
    chunkBytes: options.maxBatchBytes ?? defaults.DEFAULT_MAX_BATCH_BYTES,
    scanBatch: defaults.DEFAULT_SYNC_SCAN_BATCH,
    window: defaults.DEFAULT_SYNC_WINDOW,
    membership,
    swarmPeers: () => gossip.peers(),
    rejections,
    log: logs('sharedmem:sync'),
    onRound: (event) => {
      readiness.roundEnded(event)
      if (persistence !== undefined) {
        persistence.lastSyncAt = sync.stats.lastSyncAt
        persistence.syncState = membership.toJSON()
      }
      peer.emit('sync', event)
    },
    onProgress: (event) => peer.emit('sync:progress', event)
  })
  const dialer = new Dialer({
    node,
    bootstrap,
    announce: (peers) => gossip.announce(peers),
    announceInterval: options.announceInterval ?? defaults.DEFAULT_ANNOUNCE_INTERVAL,
    redialInterval: options.redialInterval ?? defaults.DEFAULT_REDIAL_INTERVAL,
    dialTimeout: options.dialTimeout ?? defaults.DEFAULT_DIAL_TIMEOUT,
    onRefuse: (reason, message) => rejections.record('gossip', reason, message),
    onBootstrap: (status) => {
      logBootstrap(log, status)
      peer.emit('bootstrap', status)
      readiness.check()
    },
    log: logs('sharedmem:dialer')
  })
  const meeting = resolveRendezvous(options.rendezvous)
  const defaultRendezvous = meeting?.checkDirOwner === true
  const rendezvous =
    meeting === undefined
      ? undefined
      : new Rendezvous({
          ...meeting,
          swarm,
          peerId: peerId,
          addresses: hooks.addresses,
          interval: options.rendezvousInterval ?? defaults.DEFAULT_RENDEZVOUS_INTERVAL,
          onFound: (peers) => dialer.dialDiscovered(peers),
          onScan: (found) => readiness.scanned(found),
          log: logs('sharedmem:rendezvous')
        })
  return {
    replica,
    persistence,
    gossip,
    gate,
    verbs,
    clockProbe,
    syncInterval,
    membership,
    collector,
    sync,
    dialer,
    defaultRendezvous,
    rendezvous,
    readiness,
    log
  }
}

/** A bootstrap address unreachable (or reached at another peer id) is a warning; reached, info. */
function logBootstrap(log: PartLog, b: BootstrapAddressStatus): void {
  if (b.state === 'unreachable') log.warn('bootstrap %s unreachable (%s): %s', b.address, b.problem, b.message)
  else if (b.problem !== null) log.warn('bootstrap %s: %s', b.address, b.message)
  else if (b.state === 'connected') log.info('bootstrap %s reached (%s)', b.address, b.peerId)
}
