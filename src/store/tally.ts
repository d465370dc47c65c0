/**
 * What a replica counts of its entries, kept up to date on every change: the
 * incremental digest that anti-entropy sync compares (store/digest.ts) and the
 * size figures. The digest counts an entry only while it is live or died at the
 * digest's line or after (the tombstone TTL ago, down to a multiple of the
 * digest's epoch): entries dead for longer are left out, so that collecting them,
 * whenever each peer does, leaves the digest as it was (see {@link Tally.age}).
 * What leaves at each line is kept as members are counted in and out
 * (store/leaving.ts), so that moving the line reads no member.
 */
import type { Collection } from './collection.js'
import { Digest, digestEpoch, type MemberHash } from './digest.js'
import { Leaving } from './leaving.js'

export class Tally {
  readonly digest = new Digest()
  private readonly leaving = new Leaving()
  private readonly epoch: number
  /** Entries stored, tombstones included, and tombstones. */
  stored = 0
  tombstones = 0
  private line: number
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  constructor(
    private readonly tombstoneTtl: number,
    now: number
  ) {
    this.epoch = digestEpoch(tombstoneTtl)
    this.line = this.lineAt(now)
  }

  /** Lines ahead with members due to leave the digest, for tests. */
  get linesAhead(): number {
    return this.leaving.lines
  }

  /** Whether the digest counts an entry: live, or dead (removed at `wall`, or expired) since the digest's line. */
  counts(deleted: boolean, wall: number, expiresAt: number): boolean {
    const died = deleted ? wall : expiresAt
    return died === 0 || died >= this.line
  }

  /**
   * Adds or removes member `h`, which the digest counts (see {@link counts}) and which dies at
   * `died` (0: never): the digest leaves it out once its line passes `died`.
   */
  toggle(h: MemberHash, died: number): void {
    this.digest.toggle(h)
    // The first line past `died`, in epochs: lines are multiples of the epoch.
    if (died !== 0) this.leaving.toggle(Math.floor(died / this.epoch) + 1, h)
  }

  /**
   * Counts an entry stored (removed at `wall`, or expiring at `expiresAt`): `hash` is its
   * {@link hashEntry}, in the digest when {@link counts} says so.
   */
  add(deleted: boolean, wall: number, expiresAt: number, counted: boolean, hash: MemberHash): void {
    if (counted) this.toggle(hash, deleted ? wall : expiresAt)
    this.stored++
    if (deleted) this.tombstones++
  }

  /** Undoes {@link add} for the entry in `slot` of `entries`, about to leave the store. */
  remove(entries: Collection, slot: number): void {
    const deleted = entries.isDeleted(slot)
    const wall = entries.wallOf(slot)
    const expiresAt = entries.expiryOf(slot)
    if (this.counts(deleted, wall, expiresAt)) this.toggle(entries.hashOf(slot, this.hash), deleted ? wall : expiresAt)
    this.stored--
    if (deleted) this.tombstones--
  }

  /**
   * Moves the digest's line to the tombstone TTL before `now`, down to a multiple of the digest's
   * epoch, leaving out the members (entries and counters' slots) that died before it. Every peer
   * moves it at the same moments (by its clock), so replicas holding the same entries show the
   * same digest whether or not each has collected the dead ones yet.
   */
  age(now: number): void {
    const line = this.lineAt(now)
    if (line <= this.line) return
    this.line = line
    this.leaving.apply(Math.floor(line / this.epoch), this.digest)
  }

  /** The digest's line at `now`. */
  private lineAt(now: number): number {
    const line = now - this.tombstoneTtl
    return line - (((line % this.epoch) + this.epoch) % this.epoch)
  }
}
