/**
 * The verbs' bodies on a running peer: each checks its arguments, applies locally, queues the
 * broadcast and counts itself; saves and removes pass the clock gate first. A write resolves
 * once it is durable when `durableWrites` asks for that.
 */
import type { CollectionConfig, CounterChangeConfig, CounterConfig, Json, KeyConfig, SaveConfig } from '../contract.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Gossip } from '../gossip/index.js'
import type { Persistence } from '../persist/index.js'
import type { Replica } from '../store/replica.js'
import { type ArgLimits, collectionArgs, counterArgs, counterChangeArgs, deadlineOf, keyArgs, saveArgs } from './args.js'
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
