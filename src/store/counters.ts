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
 *
 * Counters are stored as entries are, in a {@link Space}, with no JS object per
 * counter: a counter is a record keyed by its name, stamped with its window, whose
 * value holds its first slot's figures. Most counters are counted by one
 * incarnation; those counted by more keep their other slots in a map.
 */
import { compareStamps } from '../clock/index.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import { Writer } from '../value/writer.js'
import { type Digest, hashCounter, type MemberHash } from './digest.js'
import { hashKey } from './key.js'
import { Space } from './space.js'
import { type CounterUpdate, type CounterWindow, FIRST_WINDOW } from './types.js'
import { Writers } from './writers.js'

/** One slot's state, its window being its counter's. */
interface Slot {
  readonly inc: number
  readonly dec: number
  readonly baseInc: number
  readonly baseDec: number
}

/** The slots of a counter besides its first, and its total over all (kept on every change). */
interface MoreSlots {
  readonly slots: Map<string, Slot>
  total: number
}

/** Counters whose figures are kept decoded, at most. */
const COUNTERS_CACHED = 1024

const NO_SLOT: Slot = { inc: 0, dec: 0, baseInc: 0, baseDec: 0 }

/** What a slot counts: its totals above their bases. */
function counted(s: Slot): number {
  return net(s.inc, s.dec, s.baseInc, s.baseDec)
}

/** What totals count above their bases. */
function net(inc: number, dec: number, baseInc: number, baseDec: number): number {
  return inc - baseInc - (dec - baseDec)
}

/** Whether a window ending at `expiresAt` (0: never) has ended at `now`. */
export function hasEnded(expiresAt: number, now: number): boolean {
  return expiresAt !== 0 && now >= expiresAt
}

function overflow(counter: string, delta: number): SharedMemError {
  return new SharedMemError(
    ErrorCode.COUNTER_OVERFLOW,
    `${delta < 0 ? 'decrementing' : 'incrementing'} counter ${counter} by ${Math.abs(delta)} would take it beyond the safe integers (±${Number.MAX_SAFE_INTEGER})`
  )
}

export class Counters {
  /** The counters' records: key, the name; stamp, the window; value, [slot number, inc, dec, baseInc, baseDec]. */
  private readonly space: Space
  /** The names of the first slots, by number. */
  private readonly slotNames = new Writers()
  private readonly more = new Map<string, MoreSlots>()
  private readonly figuresWriter = new Writer(64)
  /** The counter {@link find} found last, and where (forgotten when it is dropped). */
  private lastFound: string | undefined = undefined
  private lastAt = -1
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  /**
   * `digest`: the replica's; `counts`: whether it counts the slots of a window ending at
   * `expiresAt` (not when it ended before the digest's line: store/tally.ts).
   */
  constructor(
    private readonly digest: Digest,
    /** Whether the digest counts a window ending at `expiresAt` of the counter in position `at` (-1: a new one). */
    private readonly counts: (expiresAt: number, at: number) => boolean
  ) {
    // Windows' writers by a table of their own: the first window's is '', no peer id, which the
    // replica's table (sent as sync frames' node tables) must not hold.
    // Few counters' figures kept decoded: each is an array, where an entry holding a number keeps
    // no object; the others are decoded when read (docs/benchmarks.md, "Memory by shape").
    this.space = new Space(new Writers(), false, { cached: COUNTERS_CACHED, holder: "a replica's counters" })
  }

  /** Counters held. */
  get size(): number {
    return this.space.size
  }

  /** A counter's value at `now`: 0 for a counter never touched, or whose window has ended. */
  value(counter: string, now: number): number {
    const at = this.find(counter)
    if (at < 0) return 0
    return hasEnded(this.space.stamps.expiryOf(at), now) ? 0 : this.total(counter, at)
  }

  /** The window a counter counts in (the first one for a counter never touched). */
  windowOf(counter: string): CounterWindow {
    const at = this.find(counter)
    return at < 0 ? FIRST_WINDOW : this.window(at)
  }

  /** Whether a counter holds any slot. */
  has(counter: string): boolean {
    return this.find(counter) >= 0
  }

  names(): string[] {
    const out: string[] = []
    for (let at = 0; at < this.space.slotLimit; at++) if (this.space.has(at)) out.push(this.space.keyOf(at))
    return out
  }

  /**
   * The slot `slot` of `counter` after adding `delta` (a safe integer, either sign) to its totals
   * in `window` (the counter's, or a newer one the caller opens), not merged yet. Throws
   * `ERR_COUNTER_OVERFLOW` when a total or the value would leave the safe integers, where sums
   * are no longer exact.
   */
  added(counter: string, slot: string, delta: number, window: CounterWindow): CounterUpdate {
    const at = this.find(counter)
    const current = at >= 0 && compareStamps(this.window(at), window) === 0 ? at : -1
    const own = current < 0 ? NO_SLOT : (this.slotOf(counter, current, slot) ?? NO_SLOT)
    const update: CounterUpdate = {
      counter,
      slot,
      inc: own.inc + Math.max(delta, 0),
      dec: own.dec + Math.max(-delta, 0),
      baseInc: own.baseInc,
      baseDec: own.baseDec,
      window
    }
    const total = current < 0 ? 0 : this.total(counter, current)
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
    const at = this.find(counter)
    if (at < 0) return []
    const window = this.window(at)
    const out: CounterUpdate[] = []
    for (const [slot, s] of this.slotsOf(counter, at)) {
      if (s.baseInc === s.inc && s.baseDec === s.dec) continue
      out.push({ counter, slot, inc: s.inc, dec: s.dec, baseInc: s.inc, baseDec: s.dec, window })
    }
    return out
  }

  /**
   * Merges a counter slot: ignored when its window is older than the counter's, or, for a counter
   * not held here, when its window ended before `horizon` and the digest no longer counts it (dead,
   * as a collected entry is: only a counter not held, as with entries, so that a replica holding an
   * older window still takes the newer one that replaced it everywhere); replacing every slot when
   * its window is newer; else element-wise max of totals and bases. Returns the slot's state
   * after, or undefined when nothing changed.
   */
  merge(update: CounterUpdate, horizon: number): CounterUpdate | undefined {
    const window = update.window ?? FIRST_WINDOW
    let at = this.find(update.counter)
    const order = at < 0 ? 1 : compareStamps(window, this.window(at))
    if (order < 0) return undefined
    if (at < 0 && window.expiresAt !== 0 && window.expiresAt < horizon && !this.counts(window.expiresAt, -1))
      return undefined
    if (at >= 0 && order > 0) {
      this.drop(update.counter, at)
      at = -1
    }
    // A counter keeps the window it holds: another deadline under the same stamp (never from an
    // honest peer) changes nothing of it, nor of what the digest counts of it.
    const held = at < 0 ? window : this.window(at)
    const current = at < 0 ? undefined : this.slotOf(update.counter, at, update.slot)
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
    const merged = this.row(update.counter, update.slot, next, held)
    // Counted where it is stored: a new counter's position is known once it is written.
    const position = this.setSlot(update.counter, at, update.slot, next, held, current)
    if (this.counts(held.expiresAt, position)) {
      if (current !== undefined)
        this.digest.toggle(hashCounter(this.row(update.counter, update.slot, current, held), this.hash))
      this.digest.toggle(hashCounter(merged, this.hash))
    }
    return merged
  }

  /**
   * Drops the counters whose window ended before `horizon` and opened before `written`, that
   * the digest no longer counts. Yields how many went so far after every `batch` counters
   * scanned, and at the end: many windows (a rate limit's, one per client) held the event loop
   * while dropped in one go.
   */
  *collect(horizon: number, written: number, batch: number): Generator<number> {
    let dropped = 0
    let scanned = 0
    const s = this.space.stamps
    for (let at = 0; at < this.space.slotLimit; at++) {
      if (!this.space.has(at)) continue
      const expiresAt = s.expiryOf(at)
      if (expiresAt !== 0 && expiresAt < horizon && s.wallOf(at) < written && !this.counts(expiresAt, at)) {
        this.drop(this.space.keyOf(at), at)
        dropped++
      }
      if (++scanned % batch === 0) yield dropped
    }
    yield dropped
  }

  /** Every counter slot. */
  *slots(): IterableIterator<CounterUpdate> {
    for (let at = 0; at < this.space.slotLimit; at++) {
      if (!this.space.has(at)) continue
      const counter = this.space.keyOf(at)
      const window = this.window(at)
      for (const [slot, s] of this.slotsOf(counter, at)) yield this.row(counter, slot, s, window)
    }
  }

  /** One past the highest position a counter holds: the digest's line scans positions below it (store/tally.ts). */
  get slotLimit(): number {
    return this.space.slotLimit
  }

  /** Leaves out of the digest the slots of the counter in position `at`, if its window ended in [from, line) (the digest's line moved there). */
  age(at: number, from: number, line: number): void {
    if (!this.space.has(at)) return
    const expiresAt = this.space.stamps.expiryOf(at)
    if (expiresAt !== 0 && expiresAt >= from && expiresAt < line) this.toggleAll(this.space.keyOf(at), at)
  }

  /** Where the record of `counter` is, or -1: the counter found last is remembered (an increment looks it up five times). */
  private find(counter: string): number {
    if (counter === this.lastFound) return this.lastAt
    const at = this.space.find(hashKey(counter), counter, this.space)
    if (at >= 0) {
      this.lastFound = counter
      this.lastAt = at
    }
    return at
  }

  private window(at: number): CounterWindow {
    const s = this.space.stamps
    return { wall: s.wallOf(at), logical: s.logicalOf(at), node: s.nodeOf(at), expiresAt: s.expiryOf(at) }
  }

  /** The record's value of `counter` (at `at`): [first slot's number, inc, dec, baseInc, baseDec] (not to be changed). */
  private figures(counter: string, at: number): readonly number[] {
    return this.space.value(at, counter) as number[]
  }

  /** The first slot of `counter` (at `at`): its name and figures. */
  private first(counter: string, at: number): [string, Slot] {
    const v = this.figures(counter, at)
    return [this.slotNames.idOf(v[0]), { inc: v[1], dec: v[2], baseInc: v[3], baseDec: v[4] }]
  }

  /** The slot `slot` of `counter` (at `at`), or undefined. */
  private slotOf(counter: string, at: number, slot: string): Slot | undefined {
    const [name, first] = this.first(counter, at)
    return name === slot ? first : this.more.get(counter)?.slots.get(slot)
  }

  /** Every slot of `counter` (at `at`), with its name. */
  private *slotsOf(counter: string, at: number): IterableIterator<[string, Slot]> {
    yield this.first(counter, at)
    const more = this.more.get(counter)
    if (more !== undefined) yield* more.slots
  }

  /** The value of `counter` (at `at`), its window aside. */
  private total(counter: string, at: number): number {
    const more = this.more.get(counter)
    if (more !== undefined) return more.total
    const v = this.figures(counter, at)
    return net(v[1], v[2], v[3], v[4])
  }

  /**
   * Sets slot `slot` of `counter` (at `at`; -1: a new counter) in `window`, the one it holds, to
   * `next`, from `current` (undefined: a new slot), keeping its total. Returns the counter's position.
   */
  private setSlot(
    counter: string,
    at: number,
    slot: string,
    next: Slot,
    window: CounterWindow,
    current: Slot | undefined
  ): number {
    let position = at
    if (at < 0 || this.first(counter, at)[0] === slot) position = this.write(counter, at, slot, next, window)
    else {
      let more = this.more.get(counter)
      if (more === undefined) {
        more = { slots: new Map(), total: counted(this.first(counter, at)[1]) }
        this.more.set(counter, more)
      }
      more.slots.set(slot, next)
    }
    const more = this.more.get(counter)
    if (more !== undefined)
      more.total = this.nextTotal(counter, more.total, counted(next) - (current === undefined ? 0 : counted(current)))
    return position
  }

  /**
   * A counter's total after a slot's count changed by `delta`: added while every figure is a
   * safe integer (then the sum is exact), else summed exactly over the slots, so that replicas
   * with the same slots (the same digest) show the same value whatever order they came in.
   */
  private nextTotal(counter: string, total: number, delta: number): number {
    const sum = total + delta
    if (Number.isSafeInteger(delta) && Number.isSafeInteger(total) && Number.isSafeInteger(sum)) return sum
    let exact = 0n
    for (const [, s] of this.slotsOf(counter, this.find(counter)))
      exact += BigInt(s.inc) - BigInt(s.baseInc) - (BigInt(s.dec) - BigInt(s.baseDec))
    return Number(exact)
  }

  /** Writes the record of `counter` (at `at`; -1: a new one) with its first slot `slot`, `s`; returns its position. */
  private write(counter: string, at: number, slot: string, s: Slot, window: CounterWindow): number {
    const added = at < 0
    if (added) at = this.space.claim(0)
    const value = [this.slotNames.numberOf(slot), s.inc, s.dec, s.baseInc, s.baseDec]
    // Encoded here, not by encodeValue: five non-negative safe integers need no check. The writer
    // is reused: the arena copies the bytes at once.
    const w = this.figuresWriter
    w.reset()
    w.arrayHeader(5)
    for (const n of value) w.uint(n)
    const { wall, logical, node, expiresAt } = window
    const record = {
      collection: '',
      key: counter,
      wall,
      logical,
      node,
      expiresAt,
      deleted: false,
      value,
      encoded: w.finish()
    }
    this.space.put(at, record, hashKey(counter), added)
    return at
  }

  /** Takes a counter and its slots out (of the digest too, where it counts them). */
  private drop(counter: string, at: number): void {
    if (this.counts(this.space.stamps.expiryOf(at), at)) this.toggleAll(counter, at)
    this.space.delete(at)
    this.more.delete(counter)
    if (counter === this.lastFound) this.lastFound = undefined
  }

  private toggleAll(counter: string, at: number): void {
    const window = this.window(at)
    for (const [slot, s] of this.slotsOf(counter, at))
      this.digest.toggle(hashCounter(this.row(counter, slot, s, window), this.hash))
  }

  private row(counter: string, slot: string, s: Slot, window: CounterWindow): CounterUpdate {
    return { counter, slot, inc: s.inc, dec: s.dec, baseInc: s.baseInc, baseDec: s.baseDec, window }
  }
}
