/**
 * `sharedmem/rate-limiter-flexible`: a rate-limiter-flexible limiter whose points are counted on
 * sharedmem, across workers and hosts. It is built as rate-limiter-flexible builds its own stores
 * (RateLimiterRedis and the others): on its `RateLimiterStoreAbstract`, which keeps `consume`,
 * `penalty`, `reward`, `block`, `set`, `get`, `delete`, the insurance limiter and the in-memory
 * block, and asks the store only to add points (`_upsert`), read (`_get`) and delete (`_delete`).
 *
 * Points are a sharedmem counter in a window of `duration` (docs/semantics.md, "Windows"); how far
 * `points` can be passed while increments are in flight between processes is in the same file
 * ("Overshoot"). A `block` or `set` must start a window of its own length at once, which a counter's
 * window cannot (it ends only at its deadline): it is an entry with that expiry, holding the points
 * it set and naming a counter of its own for the points consumed while it lasts.
 *
 * @example
 * import { createPeer } from 'sharedmem'
 * import { RateLimiterSharedMem } from 'sharedmem/rate-limiter-flexible'
 *
 * const limiter = new RateLimiterSharedMem({ peer: await createPeer(), points: 10, duration: 1 })
 * await limiter.consume(ip) // rejects with a RateLimiterRes once the 11th point is asked for
 */
import { createRequire } from 'node:module'
import type * as Flexible from 'rate-limiter-flexible'
import type { SharedMem } from '../contract.js'
import { invalidArgument } from '../errors.js'
import { KeyedWindows } from './windows.js'

// The package exports its stores, not their base class, which lies at this path (no exports map
// hides it); the types name it.
const require = createRequire(import.meta.url)
const { RateLimiterRes } = require('rate-limiter-flexible') as typeof Flexible
const RateLimiterStoreAbstract =
  require('rate-limiter-flexible/lib/RateLimiterStoreAbstract.js') as typeof Flexible.RateLimiterStoreAbstract

export interface RateLimiterSharedMemOptions {
  /** An embedded peer (`createPeer()`) or a remote client (`connect()`). */
  peer: SharedMem
  /** Points a key may consume in `duration`. */
  points: number
  /** Seconds before consumed points are reset; 0: never. */
  duration: number
  /** Seconds a key is blocked once it consumed more than `points`; 0: not blocked. @default 0 */
  blockDuration?: number
  /** Prepended (with `:`) to each key to name its counter. @default 'rlflx' */
  keyPrefix?: string
  /** Spread the allowed actions evenly over the duration (rate-limiter-flexible's option). @default false */
  execEvenly?: boolean
  /** Past this many consumed points, a key is also refused in this process's memory (rate-limiter-flexible's option). */
  inMemoryBlockOnConsumed?: number
  /** Seconds of that in-memory block. */
  inMemoryBlockDuration?: number
  /** Points at which a key is blocked in sharedmem for `blockDuration`, ≥ `points` (rate-limiter-flexible's option). */
  blockOnConsumed?: number
  /** A limiter to use while sharedmem refuses (e.g. a stopped peer, an unreachable server). */
  insuranceLimiter?: Flexible.RateLimiterAbstract
}

/** What the store hands the base class for one key: the points consumed and ms left (-1: none). */
interface Consumed {
  consumed: number
  msBeforeNext: number
}

/** A `block` or `set` in force: the points it set, when, and when it ends (null: never). */
interface Forced {
  points: number
  since: number
  deadline: number | null
}

const asForced = (value: unknown): Forced | undefined => {
  if (typeof value !== 'object' || value === null) return undefined
  const { points, since, deadline } = value as Record<string, unknown>
  if (typeof points !== 'number' || typeof since !== 'number') return undefined
  if (deadline !== null && typeof deadline !== 'number') return undefined
  return { points, since, deadline }
}

const msLeft = (deadline: number | null | undefined): number =>
  deadline === null || deadline === undefined ? -1 : Math.max(deadline - Date.now(), 0)

export class RateLimiterSharedMem extends RateLimiterStoreAbstract {
  private readonly peer: SharedMem
  private readonly windows: KeyedWindows
  /** Where blocks and sets in force are kept, one entry per key. */
  private readonly forcedCollection: string

  constructor(options: RateLimiterSharedMemOptions) {
    if (typeof options?.peer?.increment !== 'function') {
      throw invalidArgument('RateLimiterSharedMem needs { peer }: a createPeer() peer or a connect() client')
    }
    const { peer, ...rest } = options
    super({ ...rest, storeClient: peer })
    this.peer = peer
    // getKey(key) is `${keyPrefix}:${key}`, so each counter is named as RateLimiterRedis names its keys.
    const namespace = this.keyPrefix.length > 0 ? `${this.keyPrefix}:` : ''
    this.windows = new KeyedWindows(peer, namespace)
    this.forcedCollection = `rate-limit-forced:${namespace}`
  }

  /** Adds `points` (negative for a reward); `forceExpire` sets them instead, for `msDuration` (block, set). */
  async _upsert(rlKey: string, points: number, msDuration: number, forceExpire = false): Promise<Consumed> {
    if (!Number.isSafeInteger(points)) throw invalidArgument(`points must be a safe integer, got ${points}`)
    const key = this.parseKey(rlKey)
    if (forceExpire) return this.force(key, points, msDuration)
    const forced = await this.forced(key)
    if (forced !== undefined) {
      const expiresIn = forced.deadline === null ? null : Math.max(forced.deadline - Date.now(), 1)
      const counted = await this.peer.increment({
        counter: this.forcedCounter(key, forced),
        by: points,
        options: { expiresIn }
      })
      return { consumed: forced.points + counted, msBeforeNext: msLeft(forced.deadline) }
    }
    const { total, deadline } = await this.windows.add(key, points, msDuration)
    return { consumed: total, msBeforeNext: msLeft(deadline) }
  }

  /** The key's points and time left, or null for a key with nothing counted. */
  async _get(rlKey: string): Promise<Consumed | null> {
    const key = this.parseKey(rlKey)
    const forced = await this.forced(key)
    if (forced !== undefined) {
      const counted = await this.peer.getCounter({ counter: this.forcedCounter(key, forced) })
      return { consumed: forced.points + counted, msBeforeNext: msLeft(forced.deadline) }
    }
    const state = await this.windows.read(key)
    if (state === undefined) return null
    // A deadline not seen here yet (its opener's save on its way) is at most a duration away.
    const deadline = state.deadline ?? (this.msDuration > 0 ? Date.now() + this.msDuration : undefined)
    return { consumed: state.total, msBeforeNext: msLeft(deadline) }
  }

  /** Resolves whether anything was counted or set for the key. */
  async _delete(rlKey: string): Promise<boolean> {
    const key = this.parseKey(rlKey)
    const counted = await this.windows.reset(key)
    const forced = await this.peer.remove({ collection: this.forcedCollection, key })
    return counted || forced
  }

  _getRateLimiterRes(_rlKey: string, changedPoints: number, result: Consumed): Flexible.RateLimiterRes {
    return new RateLimiterRes(
      Math.max(this.points - result.consumed, 0),
      result.msBeforeNext,
      result.consumed,
      result.consumed === changedPoints
    )
  }

  private async force(key: string, points: number, msDuration: number): Promise<Consumed> {
    const since = Date.now()
    const expiresIn = msDuration > 0 ? msDuration : null
    const forced: Forced = { points, since, deadline: expiresIn === null ? null : since + expiresIn }
    // The points counted before are replaced, as a Redis SET replaces them: once the block ends, the
    // key starts from 0 rather than from what got it blocked.
    await this.peer.resetCounter({ counter: this.windows.counter(key) })
    await this.peer.save({
      collection: this.forcedCollection,
      key,
      variable: { points, since, deadline: forced.deadline },
      options: { expiresIn }
    })
    return { consumed: points, msBeforeNext: msLeft(forced.deadline) }
  }

  private async forced(key: string): Promise<Forced | undefined> {
    const forced = asForced(await this.peer.get({ collection: this.forcedCollection, key }))
    if (forced === undefined || (forced.deadline !== null && forced.deadline <= Date.now())) return undefined
    return forced
  }

  /** The counter of the points consumed while `forced` lasts: one per block, so that each starts from its own points. */
  private forcedCounter(key: string, forced: Forced): string {
    return `${this.windows.counter(key)}!${forced.since}`
  }
}
