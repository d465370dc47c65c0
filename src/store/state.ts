/**
 * What a replica holds and how it takes in what others wrote: every collection and
 * counter a peer holds, in memory, and the one merge every entry goes through
 * ({@link ReplicaState.merge}, last-writer-wins under store/lww.ts), local, received
 * or restored, beside the PN-counters' merge (store/counters.ts), the collection
 * pass and the reads and scans sync makes. This peer's own writes are
 * store/replica.ts. It knows nothing of the network.
 */
import type { Clock } from '../clock/index.js'
import type { Json } from '../value/json.js'
import type { EntryBatch } from './batch.js'
import { type ChangeHooks, Changes } from './changes.js'
import { dropDead } from './collect.js'
import { Collection } from './collection.js'
import { Counters } from './counters.js'
import { collectionSeed, type Digest, hashEntry, type MemberHash } from './digest.js'
import { keyOfEntry } from './encoded.js'
import { hashKey } from './key.js'
import { compareEntries, isCollectable } from './lww.js'
import { allEntries, encodeEverything, scanBuckets } from './scan.js'
import { Space } from './space.js'
import { Tally } from './tally.js'
import type { CounterUpdate, EntryUpdate, MergeOrigin, ReplicaSize } from './types.js'
import { Writers } from './writers.js'

export interface ReplicaInit extends ChangeHooks {
  /** This peer's id: the `node` of its writes and the tie-breaker between concurrent ones. */
  node: string
  /** This incarnation's counter slot (`<peer id>/<incarnation>`). */
  slot: string
  clock: Clock
  /** How long tombstones and expired entries are kept, in ms. */
  tombstoneTtl: number
}

export class ReplicaState {
  readonly node: string
  readonly slot: string
  readonly clock: Clock
  private readonly tombstoneTtl: number
  protected readonly changes: Changes
  /** The digest and size figures of everything stored. */
  private readonly tally: Tally
  protected readonly collections = new Map<string, Collection>()
  private readonly writers = new Writers()
  /** Where collections of a few keys keep their entries together (store/space.ts). */
  private readonly small = new Space(this.writers, true)
  protected readonly counters: Counters
  /** The hash of the entry being merged. */
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }

  constructor(init: ReplicaInit) {
    this.node = init.node
    this.slot = init.slot
    this.clock = init.clock
    this.tombstoneTtl = init.tombstoneTtl
    this.tally = new Tally(init.tombstoneTtl, init.clock.now())
    this.counters = new Counters(this.tally.digest, (expiresAt, at) => this.tally.countsCounter(at, expiresAt))
    this.changes = new Changes(init)
  }

  /** Incremental digest of everything stored, for anti-entropy sync. */
  get digest(): Digest {
    return this.tally.digest
  }

  /** The live value of a key, or null when absent, removed or expired. */
  get(collection: string, key: string): Json {
    return this.collections.get(collection)?.get(key, this.clock.now) ?? null
  }

  /** Every live key of a collection and its value, as a plain object. */
  getArray(collection: string): Record<string, Json> {
    return this.collections.get(collection)?.liveObject(this.clock.now()) ?? {}
  }

  /**
   * Live keys of a collection (with `withValues`, their values too), read from slot `from` on until
   * `limit` are found; `next` is the slot to go on from, or -1 when none is left. A key keeps its
   * slot while it is stored, live or removed, so a walk from slot 0 meets a key that stays once.
   */
  liveKeys(
    collection: string,
    from: number,
    limit: number,
    withValues: boolean
  ): { keys: string[]; values: Json[]; next: number } {
    const keys: string[] = []
    const values: Json[] = []
    const entries = this.collections.get(collection)
    if (entries === undefined) return { keys, values, next: -1 }
    const now = this.clock.now()
    const end = entries.slotLimit
    let slot = from
    for (; slot < end && keys.length < limit; slot++) {
      if (!entries.has(slot) || !entries.isLive(slot, now)) continue
      keys.push(entries.keyOf(slot) as string)
      if (withValues) values.push(entries.value(slot))
    }
    return { keys, values, next: slot < end ? slot : -1 }
  }

  /** A counter's total (0 for a counter never touched). */
  counter(counter: string): number {
    return this.counters.value(counter, this.clock.now())
  }

  /** Names of the collections that hold at least one entry (live or dead). */
  collectionNames(): string[] {
    return [...this.collections.keys()]
  }

  /** Stored entries (tombstones included) of each collection. */
  collectionSizes(): Map<string, number> {
    return new Map([...this.collections].map(([name, entries]) => [name, entries.size]))
  }

  /** Names of all counters. */
  counterNames(): string[] {
    return this.counters.names()
  }

  /**
   * Merges an entry under last-writer-wins ({@link merge}). Returns true when it won (and was
   * stored). Throws `ERR_CLOCK_SKEW`, storing nothing, for a remote stamp too far ahead. A caller
   * may pass the wall clock it read already (`now`); `received`, when given, first accumulates
   * the entry's hash, merged or not (what a sync responder tallies).
   */
  mergeEntry(update: EntryUpdate, origin: MergeOrigin = 'remote', now = this.clock.now(), received?: Digest): boolean {
    return this.merge(update, origin, now, received, true)
  }

  /**
   * Merges entries `from` to `to` (not included) of a received batch, as {@link mergeEntry}
   * merges remote entries, with the wall clock `now` read once for all. The entries' keys and
   * values stay bytes of the batch: a key string is made only for whoever asks for one
   * (listeners, persistence). `received`, when given, accumulates the hash of every entry,
   * merged or not. An entry that cannot be merged (a stamp too far ahead) is passed to
   * `onReject` with the error. Returns how many entries won (and were stored).
   */
  mergeBatch(
    batch: EntryBatch,
    from: number,
    to: number,
    now: number,
    received?: Digest,
    onReject?: (entry: EntryUpdate, err: Error) => void
  ): number {
    // A listener may write in answer to an entry: then the clock must lie past each entry as it is
    // announced. Otherwise the clock receives the latest stamp once, after the batch.
    const receiveEach = this.changes.wanted()
    let stored = 0
    // The latest stamp merged (logical -1: none).
    let wall = 0
    let logical = -1
    for (let i = from; i < to; i++) {
      const entry = batch.entry(i)
      try {
        if (this.merge(entry, 'remote', now, received, receiveEach)) stored++
      } catch (err) {
        onReject?.(entry, err as Error)
        continue
      }
      if (entry.wall > wall || (entry.wall === wall && entry.logical > logical)) {
        wall = entry.wall
        logical = entry.logical
      }
    }
    if (!receiveEach && logical >= 0) this.clock.receive({ wall, logical }, now)
    return stored
  }

  /**
   * The one merge of an entry version, local, received or restored: stored when its stamp is
   * later than the stored version's (by content when the stamps are equal: {@link compareEntries}),
   * or when its key is new and it is not dead past the tombstone horizon. Keeps the digest and
   * size figures, and announces what it stored. A remote stamp is checked against the clock
   * (throwing `ERR_CLOCK_SKEW`, storing nothing) and, with `receiveEach`, received by it.
   */
  private merge(
    update: EntryUpdate,
    origin: MergeOrigin,
    now: number,
    received: Digest | undefined,
    receiveEach: boolean
  ): boolean {
    let entries = this.collections.get(update.collection)
    const hash = hashEntry(update, this.hash, entries ?? collectionSeed(update.collection))
    const counted = this.tally.counts(update.deleted, update.wall, update.expiresAt)
    if (counted) received?.toggle(hash)
    if (origin === 'remote') {
      if (receiveEach) this.clock.receive(update, now)
      else this.clock.checkSkew(update.wall, now)
    } else if (origin === 'restore') this.clock.observe(update)
    // The key is hashed once, for the lookup and, for a new key, the index.
    const key = keyOfEntry(update)
    const keyHash = hashKey(key)
    const slot = entries === undefined ? -1 : entries.find(key, keyHash)
    let wasLive = false
    let position = slot
    if (entries !== undefined && slot >= 0) {
      const order = entries.compare(update.wall, update.logical, update.node, slot)
      if (order < 0) return false
      // The same stamp twice (never from an honest peer): the contents decide, as on every replica.
      if (order === 0 && compareEntries(update, entries.read(slot)) <= 0) return false
      wasLive = entries.isLive(slot, now)
      this.tally.remove(entries, slot)
      entries.put(slot, update, keyHash)
    } else {
      // A restored dead entry stays until collection finds every member past it (src/sync/membership.ts).
      const horizon = now - this.tombstoneTtl
      if (origin !== 'restore' && !counted && isCollectable(update.deleted, update.wall, update.expiresAt, horizon))
        return false
      if (entries === undefined) {
        entries = new Collection(update.collection, this.writers, this.small)
        this.collections.set(update.collection, entries)
      }
      position = entries.put(-1, update, keyHash)
    }
    // Counted where it is stored: by the line before, while a move of the line has not scanned it.
    const countedHere = this.tally.countsAt(entries, position, update.deleted, update.wall, update.expiresAt)
    this.tally.add(update.deleted, countedHere, hash)
    if (origin !== 'restore') this.changes.entry(update, origin, wasLive)
    return true
  }

  /**
   * Merges a counter slot (store/counters.ts). Returns true when it changed the counter. A slot
   * of a window dead past the tombstone horizon is refused, as a dead entry is, unless restored;
   * so is a remote one whose window was opened too far ahead of this clock. The clock takes in
   * the window's stamp, so that a window this peer opens later orders after it.
   */
  mergeCounter(update: CounterUpdate, origin: MergeOrigin = 'remote'): boolean {
    const now = this.clock.now()
    const window = update.window
    if (window !== undefined && window.node !== '') {
      if (origin === 'restore') this.clock.observe(window)
      else if (origin === 'remote') {
        try {
          this.clock.receive(window, now)
        } catch {
          return false
        }
      }
    }
    const horizon = origin === 'restore' ? Number.NEGATIVE_INFINITY : now - this.tombstoneTtl
    const merged = this.counters.merge(update, horizon)
    if (merged === undefined) return false
    if (origin !== 'restore') this.changes.counter(merged, this.counters.value(update.counter, now), origin)
    return true
  }

  /** Every stored entry, tombstones included, in no particular order. */
  entries(): IterableIterator<EntryUpdate> {
    return allEntries(this.collections.values())
  }

  /** Every counter slot. */
  counterSlots(): IterableIterator<CounterUpdate> {
    return this.counters.slots()
  }

  /**
   * Drops the tombstones and expired entries dead for longer than the tombstone TTL and written
   * before `watermark` minus the TTL: the time as of which every member of the swarm held what
   * any member held (src/sync/membership.ts; none given: a lone replica's, now). Entries the
   * digest still counts stay. Returns how many went.
   */
  collect(watermark?: number): number {
    let dropped = 0
    for (const step of this.collectStepwise(Number.POSITIVE_INFINITY, watermark)) dropped = step
    return dropped
  }

  /**
   * {@link collect} in steps: yields the number dropped so far after every `batch`
   * entries scanned, so a caller can let the event loop run between steps.
   */
  *collectStepwise(batch: number, watermark?: number): Generator<number> {
    const now = this.clock.now()
    for (const _ of this.ageDigestStepwise(batch, now)) yield 0
    const horizon = now - this.tombstoneTtl
    const written = Math.min(now, watermark ?? now) - this.tombstoneTtl
    let counters = 0
    for (const dropped of this.counters.collect(horizon, written, batch)) {
      counters = dropped
      yield counters
    }
    for (const dropped of dropDead(this.collections, this.tally, horizon, written, batch)) yield dropped + counters
  }

  /**
   * Moves the digest's line (store/tally.ts) to `now`: called before the digest is read, so that
   * replicas holding the same entries show the same digest whether or not each has collected the
   * dead ones yet.
   */
  ageDigest(now = this.clock.now()): void {
    this.tally.age(now, this.collections.values(), this.counters)
  }

  /** {@link ageDigest} in steps of `batch` positions scanned (store/tally.ts); the digest is exact once it returns. */
  ageDigestStepwise(batch: number, now = this.clock.now()): Generator<void> {
    return this.tally.ageStepwise(now, this.collections.values(), this.counters, batch)
  }

  /** The stored version of a key (tombstones included), if any. */
  entry(collection: string, key: string): EntryUpdate | undefined {
    const entries = this.collections.get(collection)
    const slot = entries?.find(key) ?? -1
    return slot < 0 ? undefined : entries?.read(slot, key)
  }

  /** See store/scan.ts {@link scanBuckets}. */
  scanBuckets(mask: Uint8Array, scanBatch: number): Generator<{ entries: EntryUpdate[]; counters: CounterUpdate[] }> {
    return scanBuckets(this.collections.values(), this.counters, mask, scanBatch)
  }

  /** See store/scan.ts {@link encodeEverything}. */
  encodeEverything(
    frameEntries: number,
    frameBytes: number,
    scanBatch: number
  ): Generator<{ nodes: readonly string[]; entries: Uint8Array; count: number } | undefined, boolean> {
    return encodeEverything(this.collections.values(), this.writers, frameEntries, frameBytes, scanBatch)
  }

  size(): ReplicaSize {
    return {
      entries: this.tally.stored - this.tally.tombstones,
      dead: this.tally.tombstones,
      counters: this.counters.size,
      collections: this.collections.size
    }
  }
}
