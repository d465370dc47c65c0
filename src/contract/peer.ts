/** An embedded peer: what `createPeer` returns, and the options it takes. */
import type { PrivateKey } from '@libp2p/interface'
import type { PeerEvents } from './events.js'
import type { PeerStatus } from './status.js'
import type { CollectionConfig, CollectionIterator, CounterConfig, Json, KeyConfig, SharedMem } from './verbs.js'

/** An embedded peer: the verbs, synchronous local reads, events and lifecycle. */
export interface SharedMemPeer extends SharedMem, CollectionIterator, AsyncDisposable {
  /** This peer's id (base58btc). */
  readonly peerId: string
  /** Listening multiaddrs, each ending in /p2p/<peer id>: give one to others as `bootstrap`. */
  readonly addresses: string[]
  /** Synchronous local read of a key: the value, or `null` (`T` as in {@link SharedMem.get}). */
  getSync<T extends Json = Json>(config: KeyConfig): T | null
  /** Synchronous local read of a collection. */
  getArraySync(config: CollectionConfig): Record<string, Json>
  /** Synchronous local read of a counter. */
  getCounterSync(config: CounterConfig): number
  /** Names of the collections this replica holds. */
  collections(): string[]
  /** Stored entries (tombstones included) of each collection. */
  collectionSizes(): Record<string, number>
  status(): PeerStatus
  /**
   * Runs a sync round with every connected swarm peer now; resolves when all are done, each peer
   * then holding this one's state as of the call and this one each peer's. Rejects with ERR_REMOTE,
   * naming each peer and why, if a round failed with a peer still connected (the others still ran;
   * a peer that left meanwhile is not a failure), and with ERR_STOPPED if the peer stopped.
   */
  syncNow(): Promise<void>
  /**
   * Resolves once this peer can serve what its swarm holds: when its first complete sync round
   * with a swarm peer has ended (its replica then holds what that peer held), or, with no one to
   * meet, once its bootstrap addresses and same-host discovery had their bounded chance (each
   * bootstrap address dialled once and the first scan of the rendezvous directory found no one,
   * or `DEFAULT_READY_WAIT` passed without a swarm peer). Rejects with `ERR_STOPPED` if the peer
   * stops first, or with the signal's reason when it aborts. `status().ready` says the same, and
   * is false again while the clock disagrees with the swarm's.
   * @example
   * const mem = await createPeer()
   * await mem.ready() // a new cluster worker now holds what the others hold
   */
  ready(options?: { signal?: AbortSignal }): Promise<void>
  on<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  off<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  once<K extends keyof PeerEvents>(event: K, listener: (...args: PeerEvents[K]) => void): this
  /** Publishes pending writes, closes every connection, timer and stream. Idempotent. */
  stop(): Promise<void>
}

/**
 * Options of {@link createPeer}. Every field is optional. A name it does not know, or a number out
 * of range (a time waited for by a timer above 2^31 − 1 ms, NaN, a size that is not a whole number
 * above 0), is refused with `ERR_INVALID_ARGUMENT`.
 */
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
  /**
   * Where the peer's own log lines go: a pino logger (or anything with `trace`, `debug`, `info`,
   * `warn` and `error` taking a message), so the app's logs carry the peer's, each line from a
   * `child({ component })` when the logger has `child`. The peer logs its warnings (a bootstrap
   * address unreachable, a connection refused for a swarm key that differs, input refused, its
   * clock off the swarm's) at `warn`, failures at `error`, the rest at `debug` and `trace`.
   * @default none: the peer's lines go to the `debug` module (`DEBUG=sharedmem:*`)
   */
  logger?: PeerLogger
  /** Test-only fault injection: a `Faults` of `sharedmem/testing`. @internal */
  faults?: FaultInjection
  /** Wall clock, in ms since the epoch; for tests. @default Date.now */
  now?: () => number
}

/** A logger the peer writes to (the shape of pino's): each method takes a message. */
export interface PeerLogger {
  trace(message: string): void
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
  /** A logger whose lines carry `bindings` (the peer passes `{ component: 'sharedmem:sync' }`). */
  child?(bindings: Record<string, unknown>): PeerLogger
}

/** Test-only fault settings (the `Faults` class of `sharedmem/testing`). */
export interface FaultSettings {
  /** Share (0–1) of incoming gossip messages to drop. */
  dropGossip: number
  /** Peer ids this peer refuses to be connected to. */
  block: string[]
}

/**
 * Test-only fault injection, as a peer and its HTTP server use it: the `Faults` class of
 * `sharedmem/testing` implements it. @internal
 */
export interface FaultInjection {
  /** Peer ids this peer refuses (a connection gater refuses them, open connections are closed). */
  readonly blocked: ReadonlySet<string>
  /** Replaces the settings (fields left out keep their value) and tells the peer. */
  set(settings: Partial<FaultSettings>): FaultSettings
  /** Whether to drop the incoming gossip message at hand. */
  shouldDropGossip(): boolean
  /** Calls `listener` after each change of the settings; returns its removal. */
  onChange(listener: () => void): () => void
}
