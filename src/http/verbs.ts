/**
 * The verb table: every verb of {@link SharedMem}, once, with what each way
 * into it over HTTP needs. The server's routes (server.ts), the remote client's
 * methods (client.ts) and the perfectapi description (perfectapi.ts) are made
 * from it, and it is typed by `SharedMem`: a verb added to the contract and not
 * here, or here and not in the contract, does not compile.
 */
import type { SharedMem } from '../contract.js'
import {
  type ArgLimits,
  collectionArgs,
  counterArgs,
  counterChangeArgs,
  keyArgs,
  keysArgs,
  saveArgs,
  touchArgs
} from '../peer/args.js'

/** The name of a verb. */
export type Verb = keyof SharedMem

/** The config object (first argument) of a verb of `API`. */
export type ConfigOf<API, V extends keyof API> = API[V] extends (config: infer C, ...rest: never[]) => unknown
  ? C
  : never

/** What the HTTP API needs to know of one verb whose config object is `C`. */
export interface VerbSpec<C> {
  /** A read is also served as GET with the config in the query string; a write only as POST with a JSON body. */
  readonly kind: 'read' | 'write'
  /**
   * Checks a config by the embedded API's own rules (src/peer/args.ts) and throws its typed error.
   * The remote client runs it before sending: what JSON would silently change (NaN → null, a Date
   * → a string) or cannot carry (a cycle) is refused with the same code as by an embedded peer.
   */
  check(config: C, limits: ArgLimits): unknown
  /** One line for the perfectapi description. */
  readonly synopsis: string
  /** The config's fields, in the order the ancestor's `perfectapi.json` listed them. */
  readonly parameters: ReadonlyArray<keyof C & string>
  /** Fields of the config's `options`, for the perfectapi description. */
  readonly options?: readonly string[]
}

/** An entry with its config type left open, as code that goes over every verb sees it. */
export interface AnyVerbSpec {
  readonly kind: 'read' | 'write'
  check(config: unknown, limits: ArgLimits): unknown
  readonly synopsis: string
  readonly parameters: readonly string[]
  readonly options?: readonly string[]
}

/** A table with exactly one entry for each verb of `API` (the contract's `SharedMem` unless a test says otherwise). */
export type VerbTable<API = SharedMem> = { readonly [V in keyof API]: VerbSpec<ConfigOf<API, V>> }

export const VERBS = {
  save: {
    kind: 'write',
    check: saveArgs,
    synopsis: 'Saves a variable into a collection (replacing any earlier value)',
    parameters: ['collection', 'key', 'variable'],
    options: ['expiresIn']
  },
  get: {
    kind: 'read',
    check: (config, limits) => keyArgs('get', config, limits),
    synopsis: 'The variable saved under a key, or null',
    parameters: ['collection', 'key']
  },
  remove: {
    kind: 'write',
    check: (config, limits) => keyArgs('remove', config, limits),
    synopsis: 'Removes a variable; true when a live value was there',
    parameters: ['collection', 'key']
  },
  getArray: {
    kind: 'read',
    check: (config, limits) => collectionArgs('getArray', config, limits),
    synopsis: 'Every variable of a collection, as {key: value}',
    parameters: ['collection']
  },
  increment: {
    kind: 'write',
    check: (config, limits) => counterChangeArgs('increment', config, limits),
    synopsis: 'Adds by (1 when omitted) to a counter and returns its new value',
    parameters: ['counter'],
    options: ['expiresIn']
  },
  decrement: {
    kind: 'write',
    check: (config, limits) => counterChangeArgs('decrement', config, limits),
    synopsis: 'Subtracts by (1 when omitted) from a counter and returns its new value',
    parameters: ['counter'],
    options: ['expiresIn']
  },
  resetCounter: {
    kind: 'write',
    check: (config, limits) => counterArgs('resetCounter', config, limits),
    synopsis: 'Sets a counter to 0 on every replica',
    parameters: ['counter']
  },
  getCounter: {
    kind: 'read',
    check: (config, limits) => counterArgs('getCounter', config, limits),
    synopsis: "A counter's value (0 for a new counter)",
    parameters: ['counter']
  },
  clear: {
    kind: 'write',
    check: (config, limits) => collectionArgs('clear', config, limits),
    synopsis: 'Removes every key of a collection; the number removed',
    parameters: ['collection']
  },
  touch: {
    kind: 'write',
    check: touchArgs,
    synopsis: 'Gives a key a new expiry without resending its value; true when a live value was there',
    parameters: ['collection', 'key'],
    options: ['expiresIn']
  },
  keys: {
    kind: 'read',
    check: keysArgs,
    synopsis: "A page of a collection's keys, {keys, cursor}: pass cursor back for the next (null: the last)",
    parameters: ['collection']
  }
} as const satisfies VerbTable

/** The verbs in the table's order, each with its entry. */
export const VERB_ENTRIES = Object.entries(VERBS) as ReadonlyArray<readonly [Verb, AnyVerbSpec]>
