/**
 * What a replica counts of its entries, kept up to date on every change: the
 * incremental digest that anti-entropy sync compares (store/digest.ts) and the
 * size figures. The digest counts an entry only while it is live or died at the
 * digest's line or after (the tombstone TTL ago, down to a multiple of the
 * digest's epoch): entries dead for longer are left out, so that collecting them,
 * whenever each peer does, leaves the digest as it was (see {@link Tally.age}).
 */
import type { Collection } from './collection.js'
import { Digest, digestEpoch, type MemberHash } from './digest.js'

export class Tally {
  readonly digest = new Digest()
  /** Entries stored, tombstones included, and tombstones. */
  stored = 0
  tombstones = 0
  private line: number
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  constructor(
    private readonly tombstoneTtl: number,
    now: number
  ) {
    this.line = this.lineAt(now)
  }

  /** Whether the digest counts an entry: live, or dead (removed at `wall`, or expired) since the digest's line. */
  counts(deleted: boolean, wall: number, expiresAt: number): boolean {
    const died = deleted ? wall : expiresAt
    return died === 0 || died >= this.line
  }

  /** Counts an entry stored: `hash` is its {@link hashEntry}, in the digest when {@link counts} says so. */
  add(deleted: boolean, counted: boolean, hash: MemberHash): void {
    if (counted) this.digest.toggle(hash)
    this.stored++
    if (deleted) this.tombstones++
  }

  /** Undoes {@link add} for the entry in `slot` of `entries`, about to leave the store. */
  remove(entries: Collection, slot: number): void {
    const deleted = entries.isDeleted(slot)
    if (this.counts(deleted, entries.wallOf(slot), entries.expiryOf(slot)))
      this.digest.toggle(entries.hashOf(slot, this.hash))
    this.stored--
    if (deleted) this.tombstones--
  }

  /**
   * Moves the digest's line to the tombstone TTL before `now`, down to a multiple of the digest's
   * epoch, leaving out the entries of `collections` (and the counters' slots) that died before it. Every peer moves it at the
   * same moments (by its clock), so replicas holding the same entries show the same digest whether
   * or not each has collected the dead ones yet. Scans the replica once per epoch.
   */
  age(now: number, collections: Iterable<Collection>, counters: { age(from: number, line: number): void }): void {
    const line = this.lineAt(now)
    if (line <= this.line) return
    const from = this.line
    this.line = line
    counters.age(from, line)
    for (const entries of collections) {
      for (let slot = 0; slot < entries.slotLimit; slot++) {
        if (!entries.has(slot)) continue
        const died = entries.isDeleted(slot) ? entries.wallOf(slot) : entries.expiryOf(slot)
        if (died !== 0 && died >= from && died < line) this.digest.toggle(entries.hashOf(slot, this.hash))
      }
    }
  }

  /** The digest's line at `now`. */
  private lineAt(now: number): number {
    const line = now - this.tombstoneTtl
    const epoch = digestEpoch(this.tombstoneTtl)
    return line - (((line % epoch) + epoch) % epoch)
  }
}
