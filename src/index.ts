/**
 * sharedmem: shared memory for Node.js processes across CPUs and servers.
 *
 * Every process embeds a peer that holds a full in-memory replica of all
 * collections and counters. Reads are local; writes apply locally at once and
 * are broadcast over gossipsub. Conflicts resolve by last-writer-wins on hybrid
 * logical clock timestamps; counters are PN-counters and never lose increments.
 *
 * @example
 * ```ts
 * import { createPeer } from 'sharedmem'
 * const mem = await createPeer({ bootstrap: ['127.0.0.1:7400'] })
 * await mem.save({ collection: 'users', key: 'steve', variable: { first: 'steve' }, options: { expiresIn: 60_000 } })
 * mem.getSync({ collection: 'users', key: 'steve' }) // → { first: 'steve' }
 * await mem.increment({ counter: 'visits' })        // → 1
 * await mem.stop()
 * ```
 */
import './polyfill.js'

// The defaults of the options above (PeerOptions, HttpServerOptions, the CLI's); bounds that back
// no option are not part of the contract (sharedmem/testing names them for tests).
export {
  DEFAULT_ANNOUNCE_INTERVAL,
  DEFAULT_CLOCK_PROBE_INTERVAL,
  DEFAULT_COLLECT_INTERVAL,
  DEFAULT_COMPACT_BYTES,
  DEFAULT_DIAL_TIMEOUT,
  DEFAULT_FSYNC_INTERVAL,
  DEFAULT_HTTP_BODY_LIMIT,
  DEFAULT_HTTP_PORT,
  DEFAULT_HTTP_REQUEST_TIMEOUT,
  DEFAULT_HTTP_WATCH_BUFFER_BYTES,
  DEFAULT_HTTP_WATCH_DRAIN_TIMEOUT,
  DEFAULT_HTTP_WATCH_KEEP_ALIVE,
  DEFAULT_LISTEN,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_ENTRIES,
  DEFAULT_MAX_CLOCK_SKEW,
  DEFAULT_MAX_KEY_LENGTH,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_MESSAGE_ENTRIES,
  DEFAULT_MAX_OUTBOUND_BUFFER,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MAX_VALUE_DEPTH,
  DEFAULT_MEMBER_TIMEOUT,
  DEFAULT_PEER_PORT,
  DEFAULT_REDIAL_INTERVAL,
  DEFAULT_RENDEZVOUS_INTERVAL,
  DEFAULT_SWARM,
  DEFAULT_SYNC_INTERVAL,
  DEFAULT_SYNC_TIMEOUT,
  DEFAULT_TOMBSTONE_TTL
} from './constants.js'
export type {
  BootstrapAddressStatus,
  BootstrapProblem,
  BootstrapStatus,
  Callback,
  ChangeEvent,
  ChangeOrigin,
  ClockEvent,
  ClockStatus,
  CollectionConfig,
  CollectionIterator,
  ConnectOptions,
  CounterChangeConfig,
  CounterConfig,
  CounterOptions,
  GossipStats,
  HttpServer,
  HttpServerOptions,
  IterateConfig,
  Json,
  KeyConfig,
  KeysConfig,
  KeysPage,
  MembershipStatus,
  PeerEvents,
  PeerLogger,
  PeerOptions,
  PeerStatus,
  PersistenceStatus,
  RejectEvent,
  RemoteSharedMem,
  SaveConfig,
  SaveOptions,
  SharedMem,
  SharedMemPeer,
  SyncProgressEvent,
  SyncRoundEvent,
  SyncStatus,
  TouchConfig,
  WatchStats
} from './contract.js'
export { ErrorCode, HTTP_STATUS, isErrorCode, SharedMemError } from './errors.js'
export { connect, DEFAULT_URL } from './http/client.js'
export { startHttpServer } from './http/index.js'
export { createPeer } from './peer/create.js'
