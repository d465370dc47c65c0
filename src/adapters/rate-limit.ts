/**
 * `sharedmem/rate-limit`: an express-rate-limit 8 `Store` that counts every process's hits on one
 * key together, across workers and hosts. The count of a key is a sharedmem counter in a window of
 * `windowMs`; how far a limit can be passed while increments are in flight between processes is in
 * docs/semantics.md ("Overshoot of a limit held on a replicated counter").
 *
 * @example
 * import { rateLimit } from 'express-rate-limit'
 * import { createPeer } from 'sharedmem'
 * import { SharedMemRateLimitStore } from 'sharedmem/rate-limit'
 *
 * const peer = await createPeer()
 * app.use(rateLimit({ windowMs: 60_000, limit: 100, store: new SharedMemRateLimitStore({ peer }) }))
 */
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit'
import type { SharedMem } from '../contract.js'
import { invalidArgument } from '../errors.js'
import { KeyedWindows } from './windows.js'

/** rate-limit-redis's prefix, so that a store moved from Redis names its counters the same way. */
const DEFAULT_PREFIX = 'rl:'

/** express-rate-limit's own default `windowMs`: what `init` sets, here only until it has run. */
const DEFAULT_WINDOW_MS = 60_000

export interface SharedMemRateLimitStoreOptions {
  /** An embedded peer (`createPeer()`) or a remote client (`connect()`). */
  peer: SharedMem
  /**
   * Prepended to each client's key to name its counter; stores sharing a peer need distinct ones.
   * @default 'rl:'
   */
  prefix?: string
}

export class SharedMemRateLimitStore implements Store {
  /** Hits counted by one instance are seen by every other one, in every process. */
  readonly localKeys = false
  readonly prefix: string
  private readonly peer: SharedMem
  private readonly windows: KeyedWindows
  private windowMs = DEFAULT_WINDOW_MS

  constructor(options: SharedMemRateLimitStoreOptions) {
    if (typeof options?.peer?.increment !== 'function') {
      throw invalidArgument('SharedMemRateLimitStore needs { peer }: a createPeer() peer or a connect() client')
    }
    this.peer = options.peer
    this.prefix = options.prefix ?? DEFAULT_PREFIX
    this.windows = new KeyedWindows(this.peer, this.prefix)
  }

  init(options: Options): void {
    this.windowMs = options.windowMs
  }

  async increment(key: string): Promise<IncrementResponse> {
    const { total, deadline } = await this.windows.add(key, 1, this.windowMs)
    return { totalHits: total, resetTime: deadline === undefined ? undefined : new Date(deadline) }
  }

  async decrement(key: string): Promise<void> {
    // With the window's lifetime: a decrement that lands after the window ended opens the next
    // one, which must end too (a counter opened without one never would).
    await this.peer.decrement({ counter: this.windows.counter(key), options: { expiresIn: this.windowMs } })
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const state = await this.windows.read(key)
    if (state === undefined) return undefined
    return { totalHits: state.total, resetTime: state.deadline === undefined ? undefined : new Date(state.deadline) }
  }

  async resetKey(key: string): Promise<void> {
    await this.windows.reset(key)
  }

  /** Resets every key whose window runs, as this replica knows them (docs/semantics.md, observed-remove). */
  async resetAll(): Promise<void> {
    await this.windows.resetAll()
  }
}
