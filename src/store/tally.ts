/**
 * What a replica counts of its entries, kept up to date on every change: the
 * incremental digest that anti-entropy sync compares (store/digest.ts) and the
 * size figures. The digest counts an entry only while it is live or died at the
 * digest's line or after (the tombstone TTL ago, down to a multiple of the
 * digest's epoch): entries dead for longer are left out, so that collecting them,
 * whenever each peer does, leaves the digest as it was (see {@link Tally.age}).
 *
 * The line moves by a scan of the replica, which may go in steps ({@link Tally.ageStepwise}):
 * until the scan passes an entry, that entry still counts by the line before, whatever is
 * written meanwhile, so the digest is exact when the scan ends.
 */
import type { Collection } from './collection.js'
import { Digest, digestEpoch, type MemberHash } from './digest.js'

/** The digest's line at `now`: the tombstone TTL before it, down to a multiple of the digest's epoch. */
export function digestLine(now: number, tombstoneTtl: number): number {
  const line = now - tombstoneTtl
  const epoch = digestEpoch(tombstoneTtl)
  return line - (((line % epoch) + epoch) % epoch)
}

/** The first moment after `now` at which the digest's line moves. */
export function nextLineMove(now: number, tombstoneTtl: number): number {
  return digestLine(now, tombstoneTtl) + digestEpoch(tombstoneTtl) + tombstoneTtl
}

/** What the line's scan reads of the counters: their positions, scanned before the collections. */
export interface AgedCounters {
  /** One past the highest position a counter holds. */
  readonly slotLimit: number
  /** Leaves out of the digest the counter in position `at`, if its window ended in [from, line). */
  age(at: number, from: number, line: number): void
}

/**
 * A move of the line under way: the counters, then the collections in the replica's own order,
 * read as the scan goes (a collection made meanwhile is met too), and how far the scan is.
 */
interface Move {
  /** This move's number: a collection the scan has passed is marked with it. */
  readonly id: number
  /** The line before. */
  readonly from: number
  readonly counters: AgedCounters
  /** The counters' next position to scan; Infinity once they all are. */
  counter: number
  /** The collections the scan has not reached, as the replica holds them (a live iterator). */
  readonly rest: Iterator<Collection>
  /** The collection the scan is in (undefined: none yet, or between two), and its next position. */
  current: Collection | undefined
  position: number
}

export class Tally {
  readonly digest = new Digest()
  /** Entries stored, tombstones included, and tombstones. */
  stored = 0
  tombstones = 0
  private line: number
  private move: Move | undefined
  /** Moves begun so far (each move's id). */
  private moves = 0
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  constructor(
    private readonly tombstoneTtl: number,
    now: number
  ) {
    this.line = this.lineAt(now)
  }

  /**
   * Whether the digest's line, once moved, counts an entry: live, or dead (removed at `wall`, or
   * expired) since the line. A stored entry is counted by {@link countsAt}.
   */
  counts(deleted: boolean, wall: number, expiresAt: number): boolean {
    const died = deleted ? wall : expiresAt
    return died === 0 || died >= this.line
  }

  /** {@link counts} for the window (ending at `expiresAt`) of the counter in position `at` (-1: one not stored yet). */
  countsCounter(at: number, expiresAt: number): boolean {
    const move = this.move
    const line = move !== undefined && at >= move.counter ? move.from : this.line
    return expiresAt === 0 || expiresAt >= line
  }

  /** {@link counts} for the entry in `position` of `entries`: by the line before while a move has not passed it. */
  countsAt(entries: Collection, position: number, deleted: boolean, wall: number, expiresAt: number): boolean {
    const died = deleted ? wall : expiresAt
    return died === 0 || died >= this.lineOf(entries, position)
  }

  /** Counts an entry stored: `hash` is its {@link hashEntry}, in the digest when `counted` ({@link countsAt}). */
  add(deleted: boolean, counted: boolean, hash: MemberHash): void {
    if (counted) this.digest.toggle(hash)
    this.stored++
    if (deleted) this.tombstones++
  }

  /** Undoes {@link add} for the entry in `slot` of `entries`, about to leave the store. */
  remove(entries: Collection, slot: number): void {
    const deleted = entries.isDeleted(slot)
    if (this.countsAt(entries, slot, deleted, entries.wallOf(slot), entries.expiryOf(slot)))
      this.digest.toggle(entries.hashOf(slot, this.hash))
    this.stored--
    if (deleted) this.tombstones--
  }

  /**
   * Moves the digest's line to the tombstone TTL before `now`, down to a multiple of the digest's
   * epoch, leaving out the entries of `collections` (and the counters' slots) that died before it.
   * Every peer moves it at the same moments (by its clock), so replicas holding the same entries
   * show the same digest whether or not each has collected the dead ones yet. Scans the replica
   * once per epoch, in one go; a move begun by {@link ageStepwise} is finished first.
   */
  age(now: number, collections: Iterable<Collection>, counters: AgedCounters): void {
    this.scan(Number.POSITIVE_INFINITY)
    if (this.begin(now, collections, counters)) this.scan(Number.POSITIVE_INFINITY)
  }

  /**
   * {@link age} in steps: yields after every `batch` positions scanned, and the digest is exact
   * once it returns. Meanwhile each entry counts by the line its scan has reached
   * ({@link countsAt}), and {@link age} finishes the move at once. `collections` must be live (the
   * replica's map's own iterator): the scan reads it as it goes.
   */
  *ageStepwise(now: number, collections: Iterable<Collection>, counters: AgedCounters, batch: number): Generator<void> {
    while (!this.scan(batch)) yield
    if (!this.begin(now, collections, counters)) return
    while (!this.scan(batch)) yield
  }

  /** Begins moving the line to `now`'s, if it is due: the counters and the entries are left to {@link scan}. */
  private begin(now: number, collections: Iterable<Collection>, counters: AgedCounters): boolean {
    const line = this.lineAt(now)
    // Also false for a line no clock reaches (a TTL of Infinity makes it NaN): it never moves.
    if (!(line > this.line)) return false
    const from = this.line
    this.line = line
    const rest = collections[Symbol.iterator]()
    this.move = { id: ++this.moves, from, counters, counter: 0, rest, current: undefined, position: 0 }
    return true
  }

  /**
   * Scans up to `limit` positions of the move under way, leaving out of the digest what died
   * between the line before and the new one; true once no move is left. Positions taken meanwhile
   * lie ahead of the scan or behind it, and count accordingly ({@link lineOf}).
   */
  private scan(limit: number): boolean {
    const move = this.move
    if (move === undefined) return true
    let left = limit
    // Read at each step, as the collections' below: positions taken since the move began are scanned too.
    for (; move.counter < move.counters.slotLimit; move.counter++) {
      if (left-- <= 0) return false
      move.counters.age(move.counter, move.from, this.line)
    }
    move.counter = Number.POSITIVE_INFINITY
    for (;;) {
      let entries = move.current
      if (entries === undefined) {
        const next = move.rest.next()
        if (next.done === true) break
        entries = next.value
        if (entries.lineScanned === move.id) continue
        move.current = entries
        move.position = 0
      }
      // Read at each step: positions taken since the move began are scanned too.
      for (; move.position < entries.slotLimit; move.position++) {
        if (left-- <= 0) return false
        const p = move.position
        if (!entries.has(p)) continue
        const died = entries.isDeleted(p) ? entries.wallOf(p) : entries.expiryOf(p)
        if (died !== 0 && died >= move.from && died < this.line) this.digest.toggle(entries.hashOf(p, this.hash))
      }
      entries.lineScanned = move.id
      move.current = undefined
    }
    this.move = undefined
    return true
  }

  /** The line that counts the entry in `position` of `entries`: the one before while a move has not scanned it. */
  private lineOf(entries: Collection, position: number): number {
    const move = this.move
    if (move === undefined || entries.lineScanned === move.id) return this.line
    return entries === move.current && position < move.position ? this.line : move.from
  }

  /** The digest's line at `now`. */
  private lineAt(now: number): number {
    return digestLine(now, this.tombstoneTtl)
  }
}
