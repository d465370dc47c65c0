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

export interface CounterOptions {
  /**
   * A lifetime in ms for the window this change starts, when it starts one: for a counter never
   * touched (or collected), or whose window has ended. The counter then reads 0 on every replica
   * from the deadline on, and the next change starts a new window. Ignored while a window runs
   * (as `INCR` then `PEXPIRE` on the first hit, in a Redis rate limiter). Omit (or null) for none.
   */
  expiresIn?: number | null
}

export interface CounterChangeConfig extends CounterConfig {
  /** How much to add (increment) or subtract (decrement): a safe integer, 1 when omitted (Redis `INCRBY`). */
  by?: number
  options?: CounterOptions
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
  /** Adds `by` (1 when omitted) to a counter and resolves its new value (1 for a new counter). */
  increment(config: CounterChangeConfig, callback?: Callback<number>): Promise<number>
  /** Subtracts `by` (1 when omitted) from a counter and resolves its new value (-1 for a new counter). */
  decrement(config: CounterChangeConfig, callback?: Callback<number>): Promise<number>
  /**
   * Sets a counter to 0 on every replica. Increments made concurrently elsewhere, that this
   * replica had not seen, still count once they arrive; none it had seen ever comes back. Resolves `true`.
   */
  resetCounter(config: CounterConfig, callback?: Callback<true>): Promise<true>
  /** A counter's value without changing it (0 for a new counter). */
  getCounter(config: CounterConfig, callback?: Callback<number>): Promise<number>
  /**
   * Removes every key of a collection this replica holds live, and resolves how many there were.
   * Observed-remove: a save made elsewhere that this replica has not seen yet survives the clear
   * (docs/semantics.md).
   */
  clear(config: CollectionConfig, callback?: Callback<number>): Promise<number>
  /**
   * Gives a live key a new deadline (`options.expiresIn` from now; none when omitted or null) without
   * the caller sending its value again: a new write, stamped now, of the value held here. Resolves
   * whether a live value was there; an absent, removed or expired key stays as it is.
   */
  touch(config: TouchConfig, callback?: Callback<boolean>): Promise<boolean>
  /**
   * A page of a collection's live keys, in no particular order, and the cursor of the next page.
   * Paging through a collection that does not change gives each key once; see docs/semantics.md
   * for one that does. A cursor is only meaningful to the peer that gave it.
   */
  keys(config: KeysConfig, callback?: Callback<KeysPage>): Promise<KeysPage>
}

export interface TouchConfig {
  collection: string
  key: string
  /** The new deadline, counted from now: `{expiresIn}` in ms; omitted or null for no expiry. */
  options?: SaveOptions
}

export interface KeysConfig {
  collection: string
  /** Where to go on from: the `cursor` of the page before (omit, or null, for the first page). */
  cursor?: string | null
  /** Most keys in a page, 1 to 1000. @default 100 */
  limit?: number
  /** Also give each key's value, in `values` (what {@link CollectionIterator.iterate} reads). @default false */
  values?: boolean
}

/** A page of a collection's live keys. */
export interface KeysPage {
  keys: string[]
  /** Each key's value, in the order of `keys`, when `values: true` was asked for. */
  values?: Json[]
  /** The cursor of the next page, or `null` when this page is the last. */
  cursor: string | null
}

export interface IterateConfig {
  collection: string
  /** Keys read per page. @default 100 */
  pageSize?: number
}

/** Every live key of a collection and its value, read page by page with {@link SharedMem.keys}. */
export interface CollectionIterator {
  /**
   * Yields `[key, value]` for every live key of `collection`, one page of keys at a time: the
   * paging guarantees of {@link SharedMem.keys} apply (docs/semantics.md).
   * @example for await (const [key, value] of peer.iterate({ collection: 'users' })) console.log(key, value)
   */
  iterate<T extends Json = Json>(config: IterateConfig): AsyncIterableIterator<[string, T]>
}
