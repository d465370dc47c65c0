/**
 * The replica's counters: PN-counters with observed resets and windows.
 *
 * A counter holds one slot per peer incarnation: the running totals of its
 * increments and decrements (which only grow, so a merge takes the larger of
 * each and never loses a concurrent increment) and the bases a reset observed
 * (which only grow too). A reset raises every slot's base to the totals it has
 * seen: what it saw no longer counts, while increments it had not seen (made
 * concurrently elsewhere) still do. The value is the sum over slots of
 * (inc − baseInc) − (dec − baseDec).
 *
 * The slots count in a window (docs/semantics.md, "Counters"): one opened by a
 * stamped write and ending at a deadline, after which the counter reads 0. An
 * increment of an ended counter opens a new window, later by its stamp, whose
 * slots replace all those of the windows before it on every replica.
 */
import { compareStamps } from '../clock/index.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import { type Digest, hashCounter, type MemberHash } from './digest.js'
import { type CounterUpdate, type CounterWindow, FIRST_WINDOW } from './types.js'

/** One slot's state, its window being its counter's. */
interface Slot {
  inc: number
  dec: number
  baseInc: number
  baseDec: number
}

/**
 * A counter: its window, its total and its slots. The first slot merged is held in the state's
 * own fields, since most counters are counted by one incarnation; the others are in a map made
 * for a second one. A counter costs one object, not an object and a map (docs/benchmarks.md,
 * "Memory by shape").
 */
interface CounterState extends Slot {
  window: CounterWindow
  /** The sum over slots of what counts (kept on every change). */
  total: number
  /** The name of the slot held in the state's own fields (undefined until one is merged). */
  first: string | undefined
  more: Map<string, Slot> | undefined
}

function newState(window: CounterWindow): CounterState {
  return { inc: 0, dec: 0, baseInc: 0, baseDec: 0, window, total: 0, first: undefined, more: undefined }
}

/** The slot `slot` of a counter, or undefined. */
function slotOf(state: CounterState, slot: string): Slot | undefined {
  return slot === state.first ? state : state.more?.get(slot)
}

/** Every slot of a counter, with its name. */
function* slotsOf(state: CounterState): IterableIterator<[string, Slot]> {
  if (state.first !== undefined) yield [state.first, state]
  if (state.more !== undefined) yield* state.more
}

/** Sets the slot `slot` of a counter to `to`. */
function setSlot(state: CounterState, slot: string, to: Slot): void {
  state.first ??= slot
  if (slot !== state.first) {
    state.more ??= new Map()
    state.more.set(slot, to)
    return
  }
  state.inc = to.inc
  state.dec = to.dec
  state.baseInc = to.baseInc
  state.baseDec = to.baseDec
}

/** What a slot counts: its totals above their bases. */
function counted(s: Slot): number {
  return s.inc - s.baseInc - (s.dec - s.baseDec)
}

/** Whether `window` has ended at `now`. */
export function hasEnded(window: CounterWindow, now: number): boolean {
  return window.expiresAt !== 0 && now >= window.expiresAt
}

/**
 * A counter's total after a slot's count changed by `delta`: added while every figure is a
 * safe integer (then the sum is exact), else summed exactly over the slots, so that replicas
 * with the same slots (the same digest) show the same value whatever order they came in.
 */
function nextTotal(state: CounterState, delta: number): number {
  const total = state.total + delta
  if (Number.isSafeInteger(delta) && Number.isSafeInteger(state.total) && Number.isSafeInteger(total)) return total
  let exact = 0n
  for (const [, s] of slotsOf(state)) exact += BigInt(s.inc) - BigInt(s.baseInc) - (BigInt(s.dec) - BigInt(s.baseDec))
  return Number(exact)
}

function overflow(counter: string, delta: number): SharedMemError {
  return new SharedMemError(
    ErrorCode.COUNTER_OVERFLOW,
    `${delta < 0 ? 'decrementing' : 'incrementing'} counter ${counter} by ${Math.abs(delta)} would take it beyond the safe integers (±${Number.MAX_SAFE_INTEGER})`
  )
}

export class Counters {
  private readonly counters = new Map<string, CounterState>()
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  /**
   * `digest`: the replica's; `counts`: whether it counts the slots of a window ending at
   * `expiresAt` (not when it ended before the digest's line: store/tally.ts).
   */
  constructor(
    private readonly digest: Digest,
    private readonly counts: (expiresAt: number) => boolean
  ) {}

  /** Counters held. */
  get size(): number {
    return this.counters.size
  }

  /** A counter's value at `now`: 0 for a counter never touched, or whose window has ended. */
  value(counter: string, now: number): number {
    const state = this.counters.get(counter)
    return state === undefined || hasEnded(state.window, now) ? 0 : state.total
  }

  /** The window a counter counts in (the first one for a counter never touched). */
  windowOf(counter: string): CounterWindow {
    return this.counters.get(counter)?.window ?? FIRST_WINDOW
  }

  /** Whether a counter holds any slot. */
  has(counter: string): boolean {
    return this.counters.has(counter)
  }

  names(): string[] {
    return [...this.counters.keys()]
  }

  /**
   * The slot `slot` of `counter` after adding `delta` (a safe integer, either sign) to its totals
   * in `window` (the counter's, or a newer one the caller opens), not merged yet. Throws
   * `ERR_COUNTER_OVERFLOW` when a total or the value would leave the safe integers, where sums
   * are no longer exact.
   */
  added(counter: string, slot: string, delta: number, window: CounterWindow): CounterUpdate {
    const state = this.counters.get(counter)
    const current = state !== undefined && compareStamps(state.window, window) === 0 ? state : undefined
    const own = (current === undefined ? undefined : slotOf(current, slot)) ?? {
      inc: 0,
      dec: 0,
      baseInc: 0,
      baseDec: 0
    }
    const update: CounterUpdate = {
      counter,
      slot,
      inc: own.inc + Math.max(delta, 0),
      dec: own.dec + Math.max(-delta, 0),
      baseInc: own.baseInc,
      baseDec: own.baseDec,
      window
    }
    const total = current?.total ?? 0
    if (
      !Number.isSafeInteger(update.inc) ||
      !Number.isSafeInteger(update.dec) ||
      !Number.isSafeInteger(total) ||
      !Number.isSafeInteger(total + delta)
    )
      throw overflow(counter, delta)
    return update
  }

  /** The slots of `counter` with their bases raised to their totals (what a reset writes), not merged yet. */
  reset(counter: string): CounterUpdate[] {
    const state = this.counters.get(counter)
    if (state === undefined) return []
    const out: CounterUpdate[] = []
    for (const [slot, s] of slotsOf(state)) {
      if (s.baseInc === s.inc && s.baseDec === s.dec) continue
      out.push({ counter, slot, inc: s.inc, dec: s.dec, baseInc: s.inc, baseDec: s.dec, window: state.window })
    }
    return out
  }

  /**
   * Merges a counter slot: ignored when its window is older than the counter's, or, for a counter
   * not held here, when its window ended before `horizon` and the digest no longer counts it (dead,
   * as a collected entry is: only a counter not held, as with entries, so that a replica holding an
   * older window still takes the newer one that replaced it everywhere); replacing every slot when
   * its window is newer; else
   * element-wise max of totals and bases. Returns the slot's state after, or undefined when
   * nothing changed.
   */
  merge(update: CounterUpdate, horizon: number): CounterUpdate | undefined {
    const window = update.window ?? FIRST_WINDOW
    let state = this.counters.get(update.counter)
    const order = state === undefined ? 1 : compareStamps(window, state.window)
    if (order < 0) return undefined
    if (state === undefined && window.expiresAt !== 0 && window.expiresAt < horizon && !this.counts(window.expiresAt))
      return undefined
    if (state !== undefined && order > 0) this.drop(update.counter, state)
    if (state === undefined || compareStamps(window, state.window) !== 0) {
      state = newState(window)
      this.counters.set(update.counter, state)
    }
    const current = slotOf(state, update.slot)
    const next: Slot = {
      inc: Math.max(update.inc, current?.inc ?? 0),
      dec: Math.max(update.dec, current?.dec ?? 0),
      baseInc: Math.max(update.baseInc ?? 0, current?.baseInc ?? 0),
      baseDec: Math.max(update.baseDec ?? 0, current?.baseDec ?? 0)
    }
    if (
      current !== undefined &&
      next.inc === current.inc &&
      next.dec === current.dec &&
      next.baseInc === current.baseInc &&
      next.baseDec === current.baseDec
    )
      return undefined
    const merged = this.row(update.counter, update.slot, next, window)
    if (this.counts(window.expiresAt)) {
      if (current !== undefined)
        this.digest.toggle(hashCounter(this.row(update.counter, update.slot, current, window), this.hash))
      this.digest.toggle(hashCounter(merged, this.hash))
    }
    const delta = counted(next) - (current === undefined ? 0 : counted(current))
    setSlot(state, update.slot, next)
    state.total = nextTotal(state, delta)
    return merged
  }

  /**
   * Drops the counters whose window ended before `horizon` and opened before `written`, that
   * the digest no longer counts; returns how many went.
   */
  collect(horizon: number, written: number): number {
    let dropped = 0
    for (const [counter, state] of this.counters) {
      const { expiresAt, wall } = state.window
      if (expiresAt !== 0 && expiresAt < horizon && wall < written && !this.counts(expiresAt)) {
        this.drop(counter, state)
        dropped++
      }
    }
    return dropped
  }

  /** Every counter slot. */
  *slots(): IterableIterator<CounterUpdate> {
    for (const [counter, state] of this.counters) {
      for (const [slot, s] of slotsOf(state)) yield this.row(counter, slot, s, state.window)
    }
  }

  /** Leaves out of the digest the slots of the windows that ended in [from, line) (the digest's line moved there). */
  age(from: number, line: number): void {
    for (const [counter, state] of this.counters) {
      const { expiresAt } = state.window
      if (expiresAt !== 0 && expiresAt >= from && expiresAt < line) this.toggleAll(counter, state)
    }
  }

  /** Takes a counter and its slots out (of the digest too, where it counts them). */
  private drop(counter: string, state: CounterState): void {
    if (this.counts(state.window.expiresAt)) this.toggleAll(counter, state)
    this.counters.delete(counter)
  }

  private toggleAll(counter: string, state: CounterState): void {
    for (const [slot, s] of slotsOf(state))
      this.digest.toggle(hashCounter(this.row(counter, slot, s, state.window), this.hash))
  }

  private row(counter: string, slot: string, s: Slot, window: CounterWindow): CounterUpdate {
    return { counter, slot, inc: s.inc, dec: s.dec, baseInc: s.baseInc, baseDec: s.baseDec, window }
  }
}
