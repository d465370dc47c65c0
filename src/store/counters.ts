/**
 * The replica's counters: PN-counters, one slot per peer incarnation holding the
 * running totals of its increments and decrements. Totals only grow, so a merge
 * takes the larger of each and never loses a concurrent increment; a counter's
 * value is the sum over its slots of inc − dec.
 */
import { ErrorCode, SharedMemError } from '../errors.js'
import { type Digest, hashCounter, type MemberHash } from './digest.js'
import type { CounterUpdate } from './types.js'

interface CounterState {
  total: number
  readonly slots: Map<string, { inc: number; dec: number }>
}

/**
 * A counter's total after its slots changed by `delta`: added while every figure is a safe
 * integer (then the sum is exact), else summed exactly over the slots, so that replicas with
 * the same slots (the same digest) show the same value whatever order the slots came in.
 */
function nextTotal(state: CounterState, delta: number): number {
  const total = state.total + delta
  if (Number.isSafeInteger(delta) && Number.isSafeInteger(state.total) && Number.isSafeInteger(total)) return total
  let exact = 0n
  for (const { inc, dec } of state.slots.values()) exact += BigInt(inc) - BigInt(dec)
  return Number(exact)
}

export class Counters {
  private readonly counters = new Map<string, CounterState>()
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  /** `digest`: the replica's, which counts every counter slot. */
  constructor(private readonly digest: Digest) {}

  /** Counters held. */
  get size(): number {
    return this.counters.size
  }

  /** A counter's total (0 for a counter never touched). */
  value(counter: string): number {
    return this.counters.get(counter)?.total ?? 0
  }

  names(): string[] {
    return [...this.counters.keys()]
  }

  /**
   * The slot `slot` of `counter` after adding `delta` (positive or negative) to its totals, not
   * merged yet. Throws `ERR_COUNTER_OVERFLOW` when a total or the value would leave the safe
   * integers, where sums are no longer exact.
   */
  added(counter: string, slot: string, delta: number): CounterUpdate {
    const state = this.counters.get(counter)
    const own = state?.slots.get(slot) ?? { inc: 0, dec: 0 }
    const update: CounterUpdate = {
      counter,
      slot,
      inc: own.inc + Math.max(delta, 0),
      dec: own.dec + Math.max(-delta, 0)
    }
    const total = state?.total ?? 0
    if (
      !Number.isSafeInteger(update.inc) ||
      !Number.isSafeInteger(update.dec) ||
      !Number.isSafeInteger(total) ||
      !Number.isSafeInteger(total + delta)
    ) {
      throw new SharedMemError(
        ErrorCode.COUNTER_OVERFLOW,
        `${delta < 0 ? 'decrementing' : 'incrementing'} counter ${counter} would take it beyond the safe integers (±${Number.MAX_SAFE_INTEGER})`
      )
    }
    return update
  }

  /** Merges a counter slot (element-wise max): its state after, or undefined when nothing changed. */
  merge(update: CounterUpdate): CounterUpdate | undefined {
    let state = this.counters.get(update.counter)
    if (state === undefined) {
      state = { total: 0, slots: new Map() }
      this.counters.set(update.counter, state)
    }
    const current = state.slots.get(update.slot)
    const inc = Math.max(update.inc, current?.inc ?? 0)
    const dec = Math.max(update.dec, current?.dec ?? 0)
    if (current !== undefined && inc === current.inc && dec === current.dec) return undefined
    if (current !== undefined)
      this.digest.toggle(hashCounter(update.counter, update.slot, current.inc, current.dec, this.hash))
    this.digest.toggle(hashCounter(update.counter, update.slot, inc, dec, this.hash))
    state.slots.set(update.slot, { inc, dec })
    state.total = nextTotal(state, inc - (current?.inc ?? 0) - (dec - (current?.dec ?? 0)))
    return { counter: update.counter, slot: update.slot, inc, dec }
  }

  /** Every counter slot. */
  *slots(): IterableIterator<CounterUpdate> {
    for (const [counter, state] of this.counters) {
      for (const [slot, { inc, dec }] of state.slots) yield { counter, slot, inc, dec }
    }
  }
}
