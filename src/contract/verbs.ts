/**
 * The verbs every way into sharedmem offers (an embedded peer, the remote
 * client, the HTTP API), their config objects and the values they carry. The
 * names are the ancestor's (sharedmem 0.x on perfectapi), kept so that its
 * users' code runs unchanged: see {@link SaveConfig.variable} and
 * {@link SharedMem.getArray}.
 */

/** Any value JSON can carry: what a save stores and a read returns. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** A Node-style callback, accepted as the last argument of every verb. */
export type Callback<T> = (err: Error | null, result?: T) => void

export interface SaveOptions {
  /** Time to live in ms; the entry expires at the same moment on every replica. Omit (or null) for no expiry. */
  expiresIn?: number | null
}

export interface SaveConfig {
  collection: string
  key: string
  /**
   * Any JSON-compatible value (object, array, string, number, boolean, null). Named `variable`,
   * not `value`, as the ancestor named it, so that its callers' config objects work unchanged.
   */
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
 *
 * Every verb here is also an HTTP endpoint, a method of the remote client and a command of the
 * perfectapi description, all generated from one table (src/http/verbs.ts): a verb added here
 * and not there does not compile.
 */
export interface SharedMem {
  /** Stores `variable` under `collection`/`key` (replacing any earlier value and expiry). Resolves `true`. */
  save(config: SaveConfig, callback?: Callback<true>): Promise<true>
  /**
   * The value, or `null` when the key is absent, removed or expired. `T` only names the type the
   * caller expects (as keyv's, lru-cache's and ioredis' `get<T>` do): the value is not checked against it.
   */
  get<T extends Json = Json>(config: KeyConfig, callback?: Callback<T | null>): Promise<T | null>
  /** Removes a key. Resolves whether a live value was there (on this replica). */
  remove(config: KeyConfig, callback?: Callback<boolean>): Promise<boolean>
  /**
   * Every live key of a collection and its value (`{}` for an unknown collection). Resolves an
   * object keyed by key, not an array: the name is the ancestor's, kept for its callers.
   */
  getArray(config: CollectionConfig, callback?: Callback<Record<string, Json>>): Promise<Record<string, Json>>
  /** Adds one to a counter and resolves its new value (1 for a new counter). */
  increment(config: CounterConfig, callback?: Callback<number>): Promise<number>
  /** Subtracts one from a counter and resolves its new value (-1 for a new counter). */
  decrement(config: CounterConfig, callback?: Callback<number>): Promise<number>
  /** A counter's value without changing it (0 for a new counter). */
  getCounter(config: CounterConfig, callback?: Callback<number>): Promise<number>
}
