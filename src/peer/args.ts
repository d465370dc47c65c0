/**
 * Validation of the verbs' config objects, shared by every entry point (the
 * embedded API, and through it HTTP). Each function returns clean, typed
 * arguments or throws a typed error; nothing is written before it returns.
 */

import { DEFAULT_KEYS_PAGE, MAX_KEYS_PAGE } from '../constants.js'
import type {
  CollectionConfig,
  CounterChangeConfig,
  CounterConfig,
  KeyConfig,
  KeysConfig,
  SaveConfig,
  TouchConfig
} from '../contract.js'
import { invalidArgument } from '../errors.js'
import { encodeChecked } from '../store/encoded.js'
import { checkName, MAX_DEADLINE } from '../store/validate.js'
import { freezeJson } from '../value/check.js'

/** A value to save: a string as it is, any other as its MessagePack bytes. */
export type SavedValue = string | Uint8Array

export interface ArgLimits {
  maxKeyLength: number
  maxValueDepth: number
  maxValueBytes: number
}

function object(verb: string, config: unknown, fields: string): Record<string, unknown> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw invalidArgument(`${verb} expects a config object {${fields}}`)
  }
  return config as Record<string, unknown>
}

export function keyArgs(verb: string, config: KeyConfig, limits: ArgLimits): { collection: string; key: string } {
  const c = object(verb, config, 'collection, key')
  return {
    collection: checkName('collection', c.collection, limits.maxKeyLength),
    key: checkName('key', c.key, limits.maxKeyLength)
  }
}

export function collectionArgs(verb: string, config: CollectionConfig, limits: ArgLimits): string {
  return checkName('collection', object(verb, config, 'collection').collection, limits.maxKeyLength)
}

export function counterArgs(verb: string, config: CounterConfig, limits: ArgLimits): string {
  return checkName('counter', object(verb, config, 'counter').counter, limits.maxKeyLength)
}

/** increment's and decrement's config: the counter, the amount `by` (a safe integer, 1 when absent) and a window's lifetime. */
export function counterChangeArgs(
  verb: string,
  config: CounterChangeConfig,
  limits: ArgLimits
): { counter: string; by: number; expiresIn: number } {
  const counter = counterArgs(verb, config, limits)
  const by = config.by ?? 1
  if (!Number.isSafeInteger(by)) {
    throw invalidArgument(
      `${verb}'s by must be a safe integer (±${Number.MAX_SAFE_INTEGER}), got ${JSON.stringify(by) ?? String(by)}`
    )
  }
  return { counter, by, expiresIn: expiresInOf(config.options) }
}

export function saveArgs(
  config: SaveConfig,
  limits: ArgLimits
): { collection: string; key: string; value: SavedValue; expiresIn: number } {
  const { collection, key } = keyArgs('save', config, limits)
  if (!('variable' in config) || config.variable === undefined) throw invalidArgument('save needs a variable')
  const variable: unknown = config.variable
  // Options first: they cost nothing to check, and every entry point then refuses alike.
  const expiresIn = expiresInOf(config.options)
  const valueLimits = { maxDepth: limits.maxValueDepth, maxBytes: limits.maxValueBytes }
  // A string is immutable, and stored as it is; any other value as its checked bytes.
  let value: SavedValue
  if (typeof variable === 'string') {
    freezeJson(variable, valueLimits) // its size
    value = variable
  } else value = encodeChecked(variable, valueLimits)
  return { collection, key, value, expiresIn }
}

export function touchArgs(
  config: TouchConfig,
  limits: ArgLimits
): { collection: string; key: string; expiresIn: number } {
  const { collection, key } = keyArgs('touch', config, limits)
  return { collection, key, expiresIn: expiresInOf(config.options) }
}

/**
 * The arguments of `keys`. A GET's query string carries every field as text, so `limit` may
 * also be a string of digits and `values` the words true or false.
 */
export function keysArgs(
  config: KeysConfig,
  limits: ArgLimits
): { collection: string; from: number; limit: number; values: boolean } {
  const c = object('keys', config, 'collection, cursor?, limit?, values?')
  const collection = checkName('collection', c.collection, limits.maxKeyLength)
  return { collection, from: cursorOf(c.cursor), limit: limitOf(c.limit), values: valuesOf(c.values) }
}

/** A cursor as `keys` gives it (the decimal slot to go on from), checked. */
function cursorOf(cursor: unknown): number {
  if (cursor === undefined || cursor === null || cursor === '') return 0
  if (typeof cursor !== 'string' || !/^\d{1,15}$/.test(cursor))
    throw invalidArgument(`cursor must be a cursor that keys returned, got ${JSON.stringify(cursor) ?? String(cursor)}`)
  return Number(cursor)
}

function limitOf(limit: unknown): number {
  if (limit === undefined || limit === null) return DEFAULT_KEYS_PAGE
  const n = typeof limit === 'string' && /^\d{1,10}$/.test(limit) ? Number(limit) : limit
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_KEYS_PAGE)
    throw invalidArgument(
      `limit must be an integer from 1 to ${MAX_KEYS_PAGE}, got ${JSON.stringify(limit) ?? String(limit)}`
    )
  return n
}

function valuesOf(values: unknown): boolean {
  if (values === undefined || values === null || values === false || values === 'false') return false
  if (values === true || values === 'true') return true
  throw invalidArgument(`values must be true or false, got ${JSON.stringify(values) ?? String(values)}`)
}

/** The `expiresIn` of a save's options, checked (0: no expiry). */
function expiresInOf(options: unknown): number {
  if (options === undefined || options === null) return 0
  if (typeof options !== 'object' || Array.isArray(options))
    throw invalidArgument('options must be an object {expiresIn}')
  const ttl = (options as { expiresIn?: unknown }).expiresIn
  if (ttl === undefined || ttl === null) return 0
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_DEADLINE) {
    throw invalidArgument(
      `options.expiresIn must be a positive number of ms up to ${MAX_DEADLINE} (omit it for no expiry), got ${JSON.stringify(ttl) ?? String(ttl)}`
    )
  }
  return ttl
}

/**
 * The deadline of a save made at `now` with `expiresIn` (0: none). Refuses one past
 * {@link MAX_DEADLINE}, which no peer would accept back (the wire, the disk).
 */
export function deadlineOf(expiresIn: number, now: number): number {
  if (expiresIn === 0) return 0
  const expiresAt = Math.ceil(now + expiresIn)
  if (expiresAt > MAX_DEADLINE) {
    throw invalidArgument(
      `options.expiresIn of ${expiresIn} ms ends after the latest deadline a peer accepts (${MAX_DEADLINE} ms since the epoch); omit it for no expiry`
    )
  }
  return expiresAt
}
