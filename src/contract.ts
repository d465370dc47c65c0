/**
 * The public contract of sharedmem: the verbs, their config objects, a peer's
 * options, status and events. Types only, so that every module can depend on it
 * and it depends on nothing but other modules' types: `index.ts` hands these
 * names on, the implementation (peer, http) implements them.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { GossipStats } from './gossip/index.js'
import type { Faults } from './peer/faults.js'
import type { PersistenceStatus } from './persist/index.js'
import type { ChangeEvent } from './store/types.js'
import type { Json } from './store/validate.js'
import type { SyncProgressEvent, SyncRoundEvent, SyncStatus } from './sync/index.js'
import type { MembershipStatus } from './sync/membership.js'
import type { Rejection } from './util/rejections.js'

/** A Node-style callback, accepted as the last argument of every verb. */
export type Callback<T> = (err: Error | null, result?: T) => void

export interface SaveOptions {
  /** Time to live in ms; the entry expires at the same moment on every replica. Omit (or null) for no expiry. */
  expiresIn?: number | null
}

export interface SaveConfig {
  collection: string
  key: string
  /** Any JSON-compatible value (object, array, string, number, boolean, null). */
  variable: unknown
  options?: SaveOptions
}

export interface KeyConfig {
  collection: string
  key: string
}

export interface CollectionConfig {
  collection: string
}

export interface CounterConfig {
  counter: string
}

/**
 * The classic sharedmem verbs. An embedded peer and a remote client both offer
 * them, so code moves between the two by changing one line. Each returns a
 * Promise and, when a callback is passed last, also calls it.
 */
export interface SharedMem {
  /** Stores `variable` under `collection`/`key` (replacing any earlier value and expiry). Resolves `true`. */
  save(config: SaveConfig, callback?: Callback<true>): Promise<true>
  /** The value, or `null` when the key is absent, removed or expired. */
  get(config: KeyConfig, callback?: Callback<Json>): Promise<Json>
  /** Removes a key. Resolves whether a live value was there (on this replica). */
  remove(config: KeyConfig, callback?: Callback<boolean>): Promise<boolean>
  /** Every live key of a collection and its value (`{}` for an unknown collection). */
  getArray(config: CollectionConfig, callback?: Callback<Record<string, Json>>): Promise<Record<string, Json>>
  /** Adds one to a counter and resolves its new value (1 for a new counter). */
  increment(config: CounterConfig, callback?: Callback<number>): Promise<number>
  /** Subtracts one from a counter and resolves its new value (-1 for a new counter). */
  decrement(config: CounterConfig, callback?: Callback<number>): Promise<number>
  /** A counter's value without changing it (0 for a new counter). */
  getCounter(config: CounterConfig, callback?: Callback<number>): Promise<number>
}

/** What a peer reports about itself. */
export interface PeerStatus {
  peerId: string
  /** Multiaddrs (with /p2p/<peer id>) other peers can bootstrap from. */
  addresses: string[]
  swarm: string
  /** Fingerprint of everything the replica holds (16 hex digits): equal on two peers ⇔ identical replicas. */
  digest: string
  /** Peer ids of the connected peers that have joined this swarm (share its gossip topic). */
  peers: string[]
  /** Open libp2p connections. */
  connections: number
  /** Entries holding a value, across all collections (an expired one counts until it is collected). */
  entries: number
  /** Tombstones not yet collected. */
  dead: number
  collections: number
  counters: number
  /** Reads (get, getArray, getCounter and their Sync forms) and writes (save, remove, increment, decrement) served. */
  operations: { reads: number; writes: number }
  /** Gossip figures, including a replication lag estimate (`lagMs`). */
  gossip: GossipStats
  /** With a data directory: what was loaded at start, and the state of the log. */
  persistence?: PersistenceStatus
  /** Refusals of network input by `source:reason` (e.g. `gossip:decode`, `gossip:clock-skew`). */
  rejections: Record<string, number>
  /** Anti-entropy sync: rounds, figures, and whether this peer believes itself in sync. */
  sync: SyncStatus & {
    /** No peers, or the last round (recent) found the replicas identical. */
    inSync: boolean
    /** The swarm's members as this peer knows them: the collection watermark, retired members, refused rounds. */
    membership: MembershipStatus
  }
  /** The rendezvous directory of this swarm on this host, or null when same-host discovery is off. */
  rendezvous: string | null
  /** This peer's wall clock against its swarm's (docs/semantics.md, Clock skew). */
  clock: ClockStatus
  /** ms since the epoch. */
  startedAt: number
}

/** This peer's wall clock against its swarm's, as `status().clock` reports it. */
export interface ClockStatus {
  /**
   * True while this clock lies more than `maxClockSkew` from the swarm's, either way, or its
   * latest timestamp that far ahead of it (`stampLeadMs`): its saves and removes fail with
   * `ERR_CLOCK_UNSYNCED` (they would be refused, or lose). Fix the host's clock; the flag clears
   * at the next measurement.
   */
  skewed: boolean
  /**
   * How far this wall clock is ahead of the swarm's, in ms (negative: behind): the median of
   * its lead over each peer measured and its own (zero). 0 with no peer measured.
   */
  offsetMs: number
  /** Swarm peers whose clock was measured (each once per `clockProbeInterval`). */
  peers: number
  /**
   * How far the latest timestamp this peer issued or accepted lies ahead of its wall clock, in ms
   * (0: not ahead). Beyond `maxClockSkew` (the host's clock was set back while the peer ran) its
   * next stamps would be refused too: `skewed` is then true, and saves and removes fail with
   * `ERR_CLOCK_UNSYNCED` until the wall clock catches up or the peer restarts.
   */
  stampLeadMs: number
  /** The configured `maxClockSkew`, in ms. */
  maxSkewMs: number
  /**
   * With a data directory: the latest stamp of a stored write restored while it lay more than
   * `maxClockSkew` ahead of this clock (ms since the epoch; 0: none). The clock does not run that
   * far ahead for it; until the wall clock is within `maxClockSkew` of it, saves and removes of a
   * key holding such a write fail with `ERR_CLOCK_UNSYNCED`.
   */
  restoredAhead: number
}

/** Events of a peer, for `peer.on(name, listener)`. */
export interface PeerEvents {
  /** A key was saved or removed, or a counter changed, here or on another peer. */
  change: [event: ChangeEvent]
  /** A peer connected (its peer id). */
  'peer:join': [peerId: string]
  /** A peer disconnected (its peer id). */
  'peer:leave': [peerId: string]
  /** Something received from the network was refused; `first` is true the first time for this reason. */
  reject: [event: Rejection]
  /** A sync round finished. */
  sync: [event: SyncRoundEvent]
  /** A long sync round made progress (after each frame of entries). */
  'sync:progress': [event: SyncProgressEvent]
}

/** An embedded peer: the verbs, synchronous local reads, events and lifecycle. */
export interface SharedMemPeer extends SharedMem, AsyncDisposable {
  /** This peer's id (base58btc). */
  readonly peerId: string
  /** Listening multiaddrs, each ending in /p2p/<peer id>: give one to others as `bootstrap`. */
  readonly addresses: string[]
  /** Synchronous local read of a key: the value, or `null`. */
  getSync(config: KeyConfig): Json
  /** Synchronous local read of a collection. */
  getArraySync(config: CollectionConfig): Record<string, Json>
  /** Synchronous local read of a counter. */
  getCounterSync(config: CounterConfig): number
  /** Names of the collections this replica holds. */
  collections(): string[]
  /** Stored entries (tombstones included) of each collection. */
  collectionSizes(): Record<string, number>
  status(): PeerStatus
  /** Runs a sync round with every connected swarm peer now; resolves when all are done. */
  syncNow(): Promise<void>
  on<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  off<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  once<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  /** Publishes pending writes, closes every connection, timer and stream. Idempotent. */
  stop(): Promise<void>
}

/** Options of {@link createPeer}. Every field is optional. */
export interface PeerOptions {
  /** Addresses to listen on: multiaddrs, ports or host:port. @default ['/ip4/127.0.0.1/tcp/0'] */
  listen?: Array<string | number>
  /** Peers to join through: multiaddrs (with or without /p2p/<id>) or host:port. @default [] */
  bootstrap?: string[]
  /**
   * Directory where the peers of this host find each other with no bootstrap address
   * (node:cluster workers, pm2 instances): each writes its addresses there and dials the others
   * of its swarm. `false` turns it off. Peers on other hosts still join by `bootstrap`.
   * @default process.env.SHAREDMEM_RENDEZVOUS (`off` turns it off), else `<os.tmpdir()>/sharedmem-<uid>`
   */
  rendezvous?: string | false
  /** How often the rendezvous directory is read again, in ms. @default 2000 */
  rendezvousInterval?: number
  /** Swarm name: only peers with the same name share data. @default 'default' */
  swarm?: string
  /** Identity key file: read if present, else created (mode 0600). Keeps the peer id across restarts. */
  identity?: string
  /** An identity key to use (takes precedence over `identity`). @default a fresh Ed25519 key */
  privateKey?: PrivateKey
  /**
   * Private swarm key (the text or bytes of a key file from `sharedmem keygen`): only peers
   * holding the same key can connect; everything on the wire is also encrypted with it.
   * @default none (any peer that reaches the port can join: keep the default loopback listen)
   */
  swarmKey?: Uint8Array | string
  /** Peer ids allowed to connect; others are refused by the connection gater. @default everyone */
  allowPeers?: string[]
  /**
   * Sign every gossip message and accept an update only from the peer that wrote it.
   * All peers of a swarm must agree on this. @default false (see docs/security.md)
   */
  signMessages?: boolean
  /** Largest value, as encoded MessagePack bytes. @default 1048576 (1 MiB) */
  maxValueBytes?: number
  /** Deepest nesting of a value. @default 64 */
  maxValueDepth?: number
  /** Longest collection, key or counter name. @default 1024 */
  maxKeyLength?: number
  /**
   * Most live entries (all collections) local writes may create: a save of a new key beyond it fails
   * with `ERR_STORE_FULL` (HTTP 507), while overwrites and removes still work. What other peers
   * wrote is always merged, so give every peer the same cap. Memory per entry is about its key,
   * its value and 60 bytes (docs/semantics.md). @default Infinity (no cap, like Redis' maxmemory 0)
   */
  maxEntries?: number
  /**
   * Largest lead of a remote timestamp over the local clock, in ms. A peer whose clock lies
   * further than this from its swarm's is flagged (`status().clock.skewed`) and refuses
   * saves and removes with `ERR_CLOCK_UNSYNCED`. @default 60000
   */
  maxClockSkew?: number
  /** How often each swarm peer's wall clock is measured, in ms (and once on connecting). @default 15000 */
  clockProbeInterval?: number
  /** Entries per gossip message. @default 2048 */
  maxBatchEntries?: number
  /** Soft byte limit of one gossip message's entries. @default 524288 */
  maxBatchBytes?: number
  /** Largest gossip message accepted, in bytes. @default 4194304 */
  maxMessageBytes?: number
  /** Bytes of gossip queued for one slow receiver before messages to it are dropped (sync repairs them). @default 67108864 (64 MiB) */
  maxOutboundBuffer?: number
  /** Most updates one received message may carry. @default 16384 */
  maxMessageEntries?: number
  /** How long tombstones and expired entries are kept, in ms. @default 86400000 (24 h) */
  tombstoneTtl?: number
  /** How often old tombstones are collected, in ms. @default 60000 */
  collectInterval?: number
  /**
   * Running time, in ms, a swarm member may stay silent (no sync round reaches this peer's knowledge)
   * before this peer retires it: tombstones and expired entries are then collected without waiting
   * for it, and sync rounds with it (or with a peer that heard from it since) are refused until an
   * operator decides (docs/semantics.md). Give every peer the same. @default 86400000 (24 h)
   */
  memberTimeout?: number
  /** How often unconnected bootstrap peers are dialled again, in ms. @default 5000 */
  redialInterval?: number
  /** Time limit of one dial, in ms. @default 10000 */
  dialTimeout?: number
  /** How often the peer announces its addresses to the swarm, in ms. @default 10000 */
  announceInterval?: number
  /** Time between periodic sync rounds with a random peer, in ms. @default 10000 */
  syncInterval?: number
  /** Time limit of one sync round, in ms. @default 600000 */
  syncTimeout?: number
  /**
   * Keep the replica (and the identity key, unless `identity` says otherwise) in this directory,
   * so that it survives a restart of every peer. One process at a time: `createPeer` takes a lock
   * on it first and rejects with `ERR_DATA_DIR_LOCKED` while another running process holds it
   * (a lock left by a killed process is taken over at once); `stop()` releases it.
   * @default none: memory only
   */
  dataDir?: string
  /**
   * With `dataDir`: a write (save, remove, increment, decrement) resolves only once it is fsynced,
   * at the next group commit (within `fsyncInterval`), so an acknowledged write survives a crash
   * of this peer even before any other peer has it. Costs each awaited write up to `fsyncInterval`
   * of latency, not throughput. Without `dataDir`, `createPeer` rejects with `ERR_INVALID_ARGUMENT`.
   * @default false: a write resolves once applied in memory
   */
  durableWrites?: boolean
  /** With `dataDir`: how often stored updates are written and fsynced, in ms; 0 = every event-loop turn. @default 100 */
  fsyncInterval?: number
  /** With `dataDir`: log size past which a snapshot is written, in bytes. @default 67108864 (64 MiB) */
  compactBytes?: number
  /** With `dataDir`: called as loading makes progress (entries loaded so far, every 100,000). */
  onLoadProgress?: (loaded: number) => void
  /** Test-only fault injection (see src/peer/faults.ts). @internal */
  faults?: Faults
  /** Wall clock, in ms since the epoch; for tests. @default Date.now */
  now?: () => number
}
