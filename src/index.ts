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

export * from './constants.js'
export type {
  Callback,
  ClockStatus,
  CollectionConfig,
  CounterConfig,
  KeyConfig,
  PeerEvents,
  PeerOptions,
  PeerStatus,
  SaveConfig,
  SaveOptions,
  SharedMem,
  SharedMemPeer
} from './contract.js'
export { ErrorCode, HTTP_STATUS, isErrorCode, SharedMemError } from './errors.js'
export type { GossipStats } from './gossip/index.js'
export { type ConnectOptions, connect, DEFAULT_URL, type RemoteSharedMem } from './http/client.js'
export { type HttpServer, type HttpServerOptions, startHttpServer } from './http/index.js'
export { type FaultSettings, Faults } from './peer/faults.js'
export { createPeer } from './peer/peer.js'
export type { PersistenceStatus } from './persist/index.js'
export type { ChangeEvent, ChangeOrigin } from './store/types.js'
export type { Json } from './store/validate.js'
export type { SyncProgressEvent, SyncRoundEvent, SyncStatus } from './sync/index.js'
export type { Rejection as RejectEvent } from './util/rejections.js'
