/**
 * The verbs' bodies on a running peer: each checks its arguments, applies locally, queues the
 * broadcast and counts itself; saves and removes pass the clock gate first. A write resolves
 * once it is durable when `durableWrites` asks for that.
 */
import type {
  CollectionConfig,
  CounterChangeConfig,
  CounterConfig,
  Json,
  KeyConfig,
  KeysConfig,
  KeysPage,
  SaveConfig,
  TouchConfig
} from '../contract.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Gossip } from '../gossip/index.js'
import type { Persistence } from '../persist/index.js'
import type { Replica } from '../store/replica.js'
import {
  type ArgLimits,
  collectionArgs,
  counterArgs,
  counterChangeArgs,
  deadlineOf,
  keyArgs,
  keysArgs,
  saveArgs,
  touchArgs
} from './args.js'
import type { ClockGate } from './clock-gate.js'

export interface VerbsInit {
  replica: Replica
  gossip: Gossip
  gate: ClockGate
  persistence: Persistence | undefined
  limits: ArgLimits
  maxEntries: number
  /** Whether a write waits until it is durable (only with `persistence`). */
  durableWrites: boolean
  /** Throws unless the peer is started. */
  assertRunning: () => void
}

export class Verbs {
  /** Reads and writes served, as `status().operations` reports them. */
  readonly operations = { reads: 0, writes: 0 }
  private readonly replica: Replica
  private readonly gossip: Gossip
  private readonly gate: ClockGate
  private readonly persistence: Persistence | undefined
  private readonly limits: ArgLimits
  private readonly maxEntries: number
  private readonly durableWrites: boolean
  private readonly assertRunning: () => void

  constructor(init: VerbsInit) {
    this.replica = init.replica
    this.gossip = init.gossip
    this.gate = init.gate
    this.persistence = init.persistence
    this.limits = init.limits
    this.maxEntries = init.maxEntries
    this.durableWrites = init.durableWrites
    this.assertRunning = init.assertRunning
  }

  save(config: SaveConfig): true | Promise<true> {
    this.assertRunning()
    const { collection, key, value, expiresIn } = saveArgs(config, this.limits)
    this.gate.assertAgrees(collection, key)
    if (this.maxEntries !== Number.POSITIVE_INFINITY && this.isFull() && this.replica.get(collection, key) === null) {
      throw new SharedMemError(
        ErrorCode.STORE_FULL,
        `this peer holds maxEntries (${this.maxEntries}) entries: remove some, or raise maxEntries`
      )
    }
    const expiresAt = deadlineOf(expiresIn, this.replica.clock.now())
    this.gossip.queueEntry(
      typeof value === 'string'
        ? this.replica.save(collection, key, value, expiresAt)
        : this.replica.saveEncoded(collection, key, value, expiresAt)
    )
    this.operations.writes++
    return this.acknowledged(true as const)
  }

  remove(config: KeyConfig): boolean | Promise<boolean> {
    this.assertRunning()
    const { collection, key } = keyArgs('remove', config, this.limits)
    this.gate.assertAgrees(collection, key)
    const { update, existed } = this.replica.remove(collection, key)
    this.gossip.queueEntry(update)
    this.operations.writes++
    return this.acknowledged(existed)
  }

  /** Adds `sign` × `by` to a counter (`verb` names the caller in argument errors); resolves to the new total. */
  add(verb: string, config: CounterChangeConfig, sign: 1 | -1): number | Promise<number> {
    return this.acknowledged(this.change(verb, config, sign))
  }

  resetCounter(config: CounterConfig): true | Promise<true> {
    this.assertRunning()
    const counter = counterArgs('resetCounter', config, this.limits)
    for (const update of this.replica.resetCounter(counter)) this.gossip.queueCounter(update)
    this.operations.writes++
    return this.acknowledged(true as const)
  }

  /**
   * Writes a tombstone for every key of the collection live here (observed-remove: a key this
   * replica has not seen gets none, so a save concurrent with the clear survives it).
   */
  clear(config: CollectionConfig): number | Promise<number> {
    this.assertRunning()
    const collection = collectionArgs('clear', config, this.limits)
    const { keys } = this.replica.liveKeys(collection, 0, Number.POSITIVE_INFINITY, false)
    // Every key passes the clock gate before the first is removed: a clear is refused whole or done whole.
    for (const key of keys) this.gate.assertAgrees(collection, key)
    for (const key of keys) this.gossip.queueEntry(this.replica.remove(collection, key).update)
    this.operations.writes++
    return this.acknowledged(keys.length)
  }

  /** A new write, stamped now, of the value held here with the new deadline; false (nothing written) for no live value. */
  touch(config: TouchConfig): boolean | Promise<boolean> {
    this.assertRunning()
    const { collection, key, expiresIn } = touchArgs(config, this.limits)
    this.gate.assertAgrees(collection, key)
    const touched = this.replica.touch(collection, key, deadlineOf(expiresIn, this.replica.clock.now()))
    if (touched === undefined) return false
    this.gossip.queueEntry(touched)
    this.operations.writes++
    return this.acknowledged(true)
  }

  keys(config: KeysConfig): KeysPage {
    this.assertRunning()
    const { collection, from, limit, values } = keysArgs(config, this.limits)
    this.operations.reads++
    const page = this.replica.liveKeys(collection, from, limit, values)
    const cursor = page.next < 0 ? null : String(page.next)
    return values ? { keys: page.keys, values: page.values, cursor } : { keys: page.keys, cursor }
  }

  get<T extends Json = Json>(config: KeyConfig): T | null {
    this.assertRunning()
    const { collection, key } = keyArgs('get', config, this.limits)
    this.operations.reads++
    // `T` is the caller's word for what it saved (SharedMem.get); the value is not checked against it.
    return this.replica.get(collection, key) as T | null
  }

  getArray(config: CollectionConfig): Record<string, Json> {
    this.assertRunning()
    this.operations.reads++
    return this.replica.getArray(collectionArgs('getArray', config, this.limits))
  }

  getCounter(config: CounterConfig): number {
    this.assertRunning()
    this.operations.reads++
    return this.replica.counter(counterArgs('getCounter', config, this.limits))
  }

  private change(verb: string, config: CounterChangeConfig, sign: 1 | -1): number {
    this.assertRunning()
    const { counter, by, expiresIn } = counterChangeArgs(verb, config, this.limits)
    const expiresAt = deadlineOf(expiresIn, this.replica.clock.now())
    const { update, value } = this.replica.increment(counter, sign * by, expiresAt)
    this.gossip.queueCounter(update)
    this.operations.writes++
    return value
  }

  private isFull(): boolean {
    return this.replica.size().entries >= this.maxEntries
  }

  /** A write's result, once it is durable when `durableWrites` asks for that. */
  private acknowledged<T>(result: T): T | Promise<T> {
    if (!this.durableWrites || this.persistence === undefined) return result
    return this.persistence.persisted().then(() => result)
  }
}
