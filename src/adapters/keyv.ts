/**
 * `sharedmem/keyv`: a Keyv 5 store on sharedmem, so that a Keyv cache (and through it
 * cache-manager 7 and cacheable 2) is shared by every process of a swarm. A Keyv namespace is a
 * collection; a key is stored without its namespace prefix, so the collection reads like any
 * other; Keyv's ttl becomes the entry's `expiresIn`, which every replica honours.
 *
 * @example
 * import Keyv from 'keyv'
 * import { createPeer } from 'sharedmem'
 * import { KeyvSharedMem } from 'sharedmem/keyv'
 * const peer = await createPeer()
 * const cache = new Keyv({ store: new KeyvSharedMem({ peer }), namespace: 'cache' })
 * await cache.set('answer', 42, 60_000)
 */
import { EventEmitter } from 'node:events'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import type { CollectionIterator, Json, SharedMem } from '../contract.js'
import { invalidArgument } from '../errors.js'

/** The collection of a store used without a namespace (Keyv's own default name). */
export const DEFAULT_KEYV_COLLECTION = 'keyv'

export interface KeyvSharedMemOptions {
  /** An embedded peer (`createPeer()`) or a remote client (`connect()`): both iterate. */
  peer: SharedMem & CollectionIterator
}

export class KeyvSharedMem extends EventEmitter implements KeyvStoreAdapter {
  /**
   * Keyv 5 offers `iterator()` only for stores whose `opts.dialect` it lists (sqlite, postgres,
   * mysql, mongo, redis, valkey, etcd). sharedmem's model, string keys with per-key expiry in
   * namespaces, is Redis's, so it names that one; Keyv reads the dialect for nothing else.
   */
  readonly opts = { dialect: 'redis', url: 'sharedmem' }
  /** Set by Keyv to its namespace: the collection this store reads and writes. */
  namespace: string | undefined
  private readonly peer: SharedMem & CollectionIterator

  constructor(options: KeyvSharedMemOptions) {
    super()
    if (options?.peer === undefined || typeof options.peer.save !== 'function')
      throw invalidArgument('KeyvSharedMem needs { peer }: a peer from createPeer() or a client from connect()')
    this.peer = options.peer
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const value = await this.peer.get(this.where(key))
    return value === null ? undefined : (value as StoredData<Value>)
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    // Keyv's ttl is ms; 0, a negative or a missing one means no expiry, as in Keyv's own stores.
    const expiresIn = typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0 ? ttl : null
    await this.peer.save({ ...this.where(key), variable: value, options: { expiresIn } })
    return true
  }

  async delete(key: string): Promise<boolean> {
    return this.peer.remove(this.where(key))
  }

  /** Clears this store's namespace (its collection) only, on every replica. */
  async clear(): Promise<void> {
    await this.peer.clear({ collection: this.collection() })
  }

  async has(key: string): Promise<boolean> {
    return (await this.peer.get(this.where(key))) !== null
  }

  /** Every live key of the namespace, prefixed as Keyv expects, with its stored value. */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const prefix = namespace === undefined || namespace === '' ? '' : `${namespace}:`
    for await (const [key, value] of this.peer.iterate<Json>({ collection: this.collection(namespace) })) {
      yield [`${prefix}${key}`, value as Awaited<Value>]
    }
  }

  /** The peer belongs to the caller, who stops it: nothing to close here. */
  async disconnect(): Promise<void> {}

  private collection(namespace = this.namespace): string {
    return namespace === undefined || namespace === '' ? DEFAULT_KEYV_COLLECTION : namespace
  }

  /** The collection and key of one of Keyv's keys (`<namespace>:<key>` when it has a namespace). */
  private where(key: string): { collection: string; key: string } {
    const namespace = this.namespace
    const prefix = `${namespace}:`
    const stripped = namespace !== undefined && namespace !== '' && key.startsWith(prefix)
    return { collection: this.collection(), key: stripped ? key.slice(prefix.length) : key }
  }
}
