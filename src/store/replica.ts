/**
 * The replica: what a peer holds (store/state.ts) and the writes this peer makes to
 * it: each stamped with the clock, merged as any other write, and returned for the
 * caller to broadcast.
 */
import type { Json } from '../value/json.js'
import { hasEnded } from './counters.js'
import { EncodedEntry } from './encoded.js'
import { isLive } from './lww.js'
import { ReplicaState } from './state.js'
import type { CounterUpdate, EntryUpdate } from './types.js'

export type { ReplicaInit } from './state.js'

export class Replica extends ReplicaState {
  /** Writes a value locally and returns the update to broadcast. */
  save(collection: string, key: string, value: Json, expiresAt: number): EntryUpdate {
    const update = this.stamp(collection, key, value, expiresAt, false)
    this.mergeEntry(update, 'local')
    return update
  }

  /** {@link save} for a value given as its checked MessagePack bytes (kept, not copied: the caller gives them up). */
  saveEncoded(collection: string, key: string, bytes: Uint8Array, expiresAt: number): EntryUpdate {
    const { wall, logical } = this.clock.tick()
    const update = new EncodedEntry(collection, key, wall, logical, this.node, expiresAt, false, bytes)
    this.mergeEntry(update, 'local')
    return update
  }

  /**
   * A new deadline (`expiresAt`, 0: none) for the live value of a key. A later deadline (or none)
   * is the held version again, with its stamp and the new deadline: it replaces that version
   * everywhere (versions with one stamp order by deadline, store/lww.ts) and loses to every write
   * or remove made after it, so a touch never brings back a value removed elsewhere meanwhile, nor
   * outranks a later save. An earlier deadline is a new write of the value, stamped now, ordering
   * as a save does. Undefined, writing nothing, when no live value is held.
   */
  touch(collection: string, key: string, expiresAt: number): EntryUpdate | undefined {
    const current = this.entry(collection, key)
    if (current === undefined || !isLive(current.deleted, current.expiresAt, this.clock.now())) return undefined
    // A copy: the stored bytes are a view of the collection's records, which this write replaces.
    const bytes = (current.encoded as Uint8Array).slice()
    const later = expiresAt === 0 || (current.expiresAt !== 0 && expiresAt >= current.expiresAt)
    if (!later) return this.saveEncoded(collection, key, bytes, expiresAt)
    const { wall, logical, node } = current
    const touched = new EncodedEntry(collection, key, wall, logical, node, expiresAt, false, bytes)
    this.mergeEntry(touched, 'local')
    return touched
  }

  /** Writes a tombstone locally; `existed` tells whether a live value was there. */
  remove(collection: string, key: string): { update: EntryUpdate; existed: boolean } {
    // Not `get() !== null`: a saved null is a value that existed.
    const current = this.entry(collection, key)
    const existed = current !== undefined && isLive(current.deleted, current.expiresAt, this.clock.now())
    const update = this.stamp(collection, key, null, 0, true)
    this.mergeEntry(update, 'local')
    return { update, existed }
  }

  /**
   * Adds `delta` (a safe integer, either sign) to this incarnation's totals of `counter`. An
   * increment of a counter whose window has ended, or of a new counter given a deadline
   * (`expiresAt`, 0: none), opens a window ending then (store/counters.ts). Throws
   * `ERR_COUNTER_OVERFLOW`, changing nothing, when a total or the value would leave the safe
   * integers, where sums are no longer exact.
   */
  increment(counter: string, delta: number, expiresAt = 0): { update: CounterUpdate; value: number } {
    let window = this.counters.windowOf(counter)
    if (hasEnded(window.expiresAt, this.clock.now()) || (expiresAt !== 0 && !this.counters.has(counter))) {
      const { wall, logical } = this.clock.tick()
      window = { wall, logical, node: this.node, expiresAt }
    }
    const update = this.counters.added(counter, this.slot, delta, window)
    this.mergeCounter(update, 'local')
    return { update, value: this.counter(counter) }
  }

  /**
   * Sets a counter to 0 where every replica will: raises each slot's base to the totals seen
   * here, so increments made elsewhere that this replica has not seen still count. Returns the
   * slots to broadcast.
   */
  resetCounter(counter: string): CounterUpdate[] {
    const updates = this.counters.reset(counter)
    for (const update of updates) this.mergeCounter(update, 'local')
    return updates
  }

  private stamp(collection: string, key: string, value: Json, expiresAt: number, deleted: boolean): EntryUpdate {
    const { wall, logical } = this.clock.tick()
    return { collection, key, wall, logical, node: this.node, expiresAt, deleted, value }
  }
}
