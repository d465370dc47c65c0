/**
 * The replica: every collection and counter a peer holds, in memory. It applies
 * local writes (stamping them with the clock) and merges remote ones under
 * last-writer-wins and PN-counter rules. It knows nothing of the network.
 */
import { type Clock, compareStamps } from '../clock/index.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Json } from '../value/json.js'
import { Writer } from '../value/writer.js'
import type { EntryBatch } from './batch.js'
import { Collection, hashKey, hashKeyBytes, isCollectable, isLive, Writers } from './collection.js'
import {
  BUCKETS,
  bucketOf,
  collectionSeed,
  counterBucketOf,
  Digest,
  digestEpoch,
  hashAsciiEntry,
  hashCounter,
  hashEntry,
  type MemberHash
} from './digest.js'
import { EncodedEntry, encodeValue } from './encoded.js'
import type { ChangeEvent, ChangeOrigin, CounterUpdate, EntryUpdate } from './types.js'

export interface ReplicaInit {
  /** This peer's id: the `node` of its writes and the tie-breaker between concurrent ones. */
  node: string
  /** This incarnation's counter slot (`<peer id>/<incarnation>`). */
  slot: string
  clock: Clock
  /** How long tombstones and expired entries are kept, in ms. */
  tombstoneTtl: number
  /** Called synchronously for each visible change. */
  onChange?: (event: ChangeEvent) => void
  /** Whether anyone listens to changes now: when not, no event objects are built. @default always */
  hasChangeListeners?: () => boolean
  /** Called with every entry stored and every counter slot changed (not for restored ones): what persistence must keep. */
  onStore?: (update: EntryUpdate | CounterUpdate) => void
  /** Whether onStore needs each entry now (persistence is on): when not (and nobody listens), a received batch is stored without an object per entry. @default always */
  hasStore?: () => boolean
}

/** Where a merged update comes from: local and remote ones are announced; restored ones (from disk) are not. */
export type MergeOrigin = ChangeOrigin | 'restore'

/**
 * Last-writer-wins order: by stamp, and — only for two different writes with the
 * same stamp, which an honest peer never makes — by content (deletion, expiry,
 * then the value's MessagePack bytes), so that even then every replica keeps the
 * same one.
 */
export function compareEntries(a: EntryUpdate, b: EntryUpdate): number {
  const byStamp = compareStamps(a, b)
  if (byStamp !== 0 || a === b) return byStamp
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1
  if (a.expiresAt !== b.expiresAt) return a.expiresAt - b.expiresAt
  if (a.deleted) return 0
  // By the value's bytes: the same write received twice compares equal without decoding.
  return Buffer.compare(bytesOf(a), bytesOf(b))
}

/**
 * Sets `out[key]` as an own, enumerable property for every key: an assignment to `__proto__`
 * would set the object's prototype instead (the key missing, its value inherited by the object).
 */
function own(out: Record<string, Json>, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
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

function bytesOf(e: EntryUpdate): Uint8Array {
  return e.encoded ?? encodeValue(e.value)
}

/** What {@link Replica.mergeBatch} looks up once per batch: by the batch's collection and writer numbers. */
interface BatchContext {
  collections: Array<Collection | undefined>
  seeds: Uint32Array[]
  writers: number[]
  /** Whether stored entries go to persistence or change listeners (as objects). */
  announce: boolean
}

/** Most writers a replica may know for {@link Replica.encodeEverything} to send its table in every frame. */
const MAX_FRAME_WRITERS = 256

interface CounterState {
  total: number
  readonly slots: Map<string, { inc: number; dec: number }>
}

/** Counts of what a replica holds (kept up to date on every change: reading them is O(1)). */
export interface ReplicaSize {
  /** Entries holding a value (an expired one counts until it is collected). */
  entries: number
  /** Tombstones not yet collected. */
  dead: number
  counters: number
  collections: number
}

export class Replica {
  readonly node: string
  readonly slot: string
  readonly clock: Clock
  private readonly tombstoneTtl: number
  private readonly onChange: (event: ChangeEvent) => void
  private readonly hasChangeListeners: () => boolean
  private readonly onStore: (update: EntryUpdate | CounterUpdate) => void
  private readonly hasStore: () => boolean
  /** Incremental digest of everything stored, for anti-entropy sync. */
  readonly digest = new Digest()
  private readonly collections = new Map<string, Collection>()
  private readonly writers = new Writers()
  private readonly counters = new Map<string, CounterState>()
  private readonly hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }
  /** The hash of an entry received while it merges (apart from `hash`, which the merge itself uses). */
  private readonly receivedHash: MemberHash = { bucket: 0, h1: 0, h2: 0 }
  private stored = 0
  private tombstones = 0
  /**
   * The digest counts an entry only while it is live or died at this line or after (the tombstone
   * TTL ago, down to a multiple of the digest's epoch): entries dead for longer are left out, so that
   * collecting them, whenever each peer does, leaves the digest as it was (see {@link ageDigest}).
   */
  private digestLine = 0

  constructor(init: ReplicaInit) {
    this.node = init.node
    this.slot = init.slot
    this.clock = init.clock
    this.tombstoneTtl = init.tombstoneTtl
    this.digestLine = this.lineAt(init.clock.now())
    this.onChange = init.onChange ?? (() => {})
    this.hasChangeListeners = init.hasChangeListeners ?? (() => true)
    this.onStore = init.onStore ?? (() => {})
    this.hasStore = init.hasStore ?? (() => true)
  }

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
   * Adds `delta` (positive or negative) to this incarnation's totals of `counter`. Throws
   * `ERR_COUNTER_OVERFLOW`, changing nothing, when a total or the value would leave the
   * safe integers, where sums are no longer exact.
   */
  increment(counter: string, delta: number): { update: CounterUpdate; value: number } {
    const state = this.counters.get(counter)
    const own = state?.slots.get(this.slot) ?? { inc: 0, dec: 0 }
    const update: CounterUpdate = {
      counter,
      slot: this.slot,
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
    this.mergeCounter(update, 'local')
    return { update, value: this.counter(counter) }
  }

  /** The live value of a key, or null when absent, removed or expired. */
  get(collection: string, key: string): Json {
    const entries = this.collections.get(collection)
    const slot = entries?.find(key) ?? -1
    return slot >= 0 && entries?.isLive(slot, this.clock.now()) === true ? entries.value(slot) : null
  }

  /** Every live key of a collection and its value, as a plain object. */
  getArray(collection: string): Record<string, Json> {
    const out: Record<string, Json> = {}
    const entries = this.collections.get(collection)
    if (entries === undefined) return out
    const now = this.clock.now()
    for (let slot = 0; slot < entries.slotLimit; slot++) {
      if (entries.has(slot) && entries.isLive(slot, now)) own(out, entries.keyOf(slot) as string, entries.value(slot))
    }
    return out
  }

  /** A counter's total (0 for a counter never touched). */
  counter(counter: string): number {
    return this.counters.get(counter)?.total ?? 0
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
    return [...this.counters.keys()]
  }

  /**
   * Merges an entry under last-writer-wins. Returns true when it won (and was stored).
   * Throws `ERR_CLOCK_SKEW`, storing nothing, for a remote stamp too far ahead.
   * A caller merging a batch may pass the wall clock read once for all of it (`now`),
   * and the entry's digest hash when it has computed it already (`known`: `hashEntry(update)`).
   */
  mergeEntry(update: EntryUpdate, origin: MergeOrigin = 'remote', now = this.clock.now(), known?: MemberHash): boolean {
    if (origin === 'remote') this.clock.receive(update, now)
    else if (origin === 'restore') this.clock.observe(update)
    let entries = this.collections.get(update.collection)
    const hash = hashKey(update.key)
    const slot = entries?.find(update.key, hash) ?? -1
    const current = slot < 0 ? undefined : entries?.read(slot, update.collection, update.key)
    if (current !== undefined && compareEntries(update, current) <= 0) return false
    // A restored dead entry stays until collection finds every member past it (src/sync/membership.ts).
    if (
      current === undefined &&
      origin !== 'restore' &&
      !this.counts(update.deleted, update.wall, update.expiresAt) &&
      isCollectable(update.deleted, update.wall, update.expiresAt, now - this.tombstoneTtl)
    ) {
      return false
    }
    if (entries === undefined) {
      entries = new Collection(this.writers)
      this.collections.set(update.collection, entries)
    }
    if (current !== undefined) {
      this.forget(current)
      entries.set(slot, update)
    } else {
      entries.add(update.key, hash, update)
    }
    this.remember(update, known)
    if (origin !== 'restore')
      this.announce(update, origin, current !== undefined && isLive(current.deleted, current.expiresAt, now))
    return true
  }

  /**
   * Merges a received entry as {@link mergeEntry} does; `received`, when given, first
   * accumulates its hash (what a sync responder tallies: merged or not), which then serves
   * the replica's own digest too.
   */
  mergeReceived(entry: EntryUpdate, now: number, received?: Digest): boolean {
    if (received === undefined) return this.mergeEntry(entry, 'remote', now)
    const known = hashEntry(entry, this.receivedHash)
    if (this.counts(entry.deleted, entry.wall, entry.expiresAt)) received.toggle(known)
    return this.mergeEntry(entry, 'remote', now, known)
  }

  /** Hands a stored update to persistence and, as a visible change, to listeners (`wasLive`: what it replaced was live). */
  private announce(update: EntryUpdate, origin: ChangeOrigin, wasLive: boolean): void {
    this.onStore(update)
    if (!this.hasChangeListeners()) return
    if (!update.deleted) {
      this.onChange({
        type: 'save',
        collection: update.collection,
        key: update.key,
        value: update.value,
        expiresAt: update.expiresAt,
        origin,
        node: update.node
      })
    } else if (wasLive) {
      this.onChange({
        type: 'remove',
        collection: update.collection,
        key: update.key,
        value: null,
        origin,
        node: update.node
      })
    }
  }

  /**
   * Merges entries `from` to `to` (not included) of a received batch, as
   * {@link mergeEntry} merges remote entries, with the wall clock `now` read once for
   * all. An entry with an all-ASCII key is hashed, found, compared and stored from the
   * batch's bytes, with no key string, and an entry object only for an entry stored while
   * change listeners or persistence want it; any other (or two versions with one stamp)
   * goes through mergeEntry. `received`, when given, accumulates the hash of every entry,
   * merged or not (what a sync responder tallies). An entry that cannot be merged
   * (a stamp too far ahead) is passed to `onReject` with the error. Returns how many
   * entries won (and were stored).
   */
  mergeBatch(
    batch: EntryBatch,
    from: number,
    to: number,
    now: number,
    received?: Digest,
    onReject?: (entry: EntryUpdate, err: Error) => void
  ): number {
    const hash: MemberHash = { bucket: 0, h1: 0, h2: 0 }
    const announce = this.hasChangeListeners() || this.hasStore()
    const context: BatchContext = { collections: [], seeds: [], writers: [], announce }
    let stored = 0
    // The latest stamp merged from the batch's bytes (logical -1: none).
    let wall = 0
    let logical = -1
    for (let i = from; i < to; i++) {
      try {
        if (!batch.isAscii(i)) {
          if (this.mergeReceived(batch.entry(i), now, received)) stored++
          continue
        }
        if (this.mergeFromBatch(batch, i, now, context, hash, received)) stored++
        if (batch.wall(i) > wall || (batch.wall(i) === wall && batch.logical(i) > logical)) {
          wall = batch.wall(i)
          logical = batch.logical(i)
        }
      } catch (err) {
        onReject?.(batch.entry(i), err as Error)
      }
    }
    // Once for the batch: the clock then lies past every stamp merged, as it would after each.
    if (logical >= 0) this.clock.receive({ wall, logical }, now)
    return stored
  }

  /** mergeBatch's merge of entry `i` from the batch's bytes (the clock receives its stamp after); true when it won. */
  private mergeFromBatch(
    batch: EntryBatch,
    i: number,
    now: number,
    context: BatchContext,
    hash: MemberHash,
    received: Digest | undefined
  ): boolean {
    const c = batch.collectionOf(i)
    const name = batch.collections[c]
    let seed = context.seeds[c]
    if (seed === undefined) {
      seed = collectionSeed(name)
      context.seeds[c] = seed
    }
    const { bytes } = batch
    const keyStart = batch.keyStart(i)
    const keyEnd = batch.keyEnd(i)
    const wall = batch.wall(i)
    const logical = batch.logical(i)
    const node = batch.nodes[batch.nodeOf(i)]
    const expiresAt = batch.expiresAt(i)
    const deleted = batch.deleted(i)
    hashAsciiEntry(seed, bytes, keyStart, keyEnd, wall, logical, node, expiresAt, deleted, hash)
    const counted = this.counts(deleted, wall, expiresAt)
    if (counted) received?.toggle(hash)
    this.clock.checkSkew(wall, now)
    // A listener may write in answer to this entry: the clock must lie past it first.
    if (context.announce) this.clock.receive({ wall, logical }, now)
    let entries = context.collections[c] ?? this.collections.get(name)
    let wasLive = false
    const keyHash = hashKeyBytes(bytes, keyStart, keyEnd)
    const slot = entries === undefined ? -1 : entries.findAscii(bytes, keyStart, keyEnd, keyHash)
    if (entries !== undefined && slot >= 0) {
      const currentNode = this.writers.idOf(entries.writerOf(slot))
      const order =
        wall - entries.wallOf(slot) ||
        logical - entries.logicalOf(slot) ||
        (node < currentNode ? -1 : node > currentNode ? 1 : 0)
      if (order < 0) return false
      // The same stamp twice: mergeEntry compares the contents.
      if (order === 0) return this.mergeEntry(batch.entry(i), 'remote', now, hash)
      const wasDeleted = entries.isDeleted(slot)
      wasLive = entries.isLive(slot, now)
      if (this.counts(wasDeleted, entries.wallOf(slot), entries.expiryOf(slot)))
        this.digest.toggle(
          hashAsciiEntry(
            seed,
            bytes,
            keyStart,
            keyEnd,
            entries.wallOf(slot),
            entries.logicalOf(slot),
            currentNode,
            entries.expiryOf(slot),
            wasDeleted,
            this.hash
          )
        )
      this.stored--
      if (wasDeleted) this.tombstones--
      entries.setFromBatch(slot, batch, i, this.writerNumber(batch, i, context))
    } else {
      if (!counted && isCollectable(deleted, wall, expiresAt, now - this.tombstoneTtl)) return false
      if (entries === undefined) {
        entries = new Collection(this.writers)
        this.collections.set(name, entries)
      }
      entries.addFromBatch(keyHash, batch, i, this.writerNumber(batch, i, context))
    }
    context.collections[c] = entries
    if (counted) this.digest.toggle(hash)
    this.stored++
    if (deleted) this.tombstones++
    if (context.announce) this.announce(batch.entry(i), 'remote', wasLive)
    return true
  }

  /** The writer of entry `i` as its number in {@link Writers} (numbered when first stored: a batch may name writers it never uses). */
  private writerNumber(batch: EntryBatch, i: number, context: BatchContext): number {
    const n = batch.nodeOf(i)
    let writer = context.writers[n]
    if (writer === undefined) {
      writer = this.writers.numberOf(batch.nodes[n])
      context.writers[n] = writer
    }
    return writer
  }

  /** Merges a counter slot (element-wise max). Returns true when the total changed. */
  mergeCounter(update: CounterUpdate, origin: MergeOrigin = 'remote'): boolean {
    const state = this.counterState(update.counter)
    const current = state.slots.get(update.slot)
    const inc = Math.max(update.inc, current?.inc ?? 0)
    const dec = Math.max(update.dec, current?.dec ?? 0)
    if (current !== undefined && inc === current.inc && dec === current.dec) return false
    if (current !== undefined)
      this.digest.toggle(hashCounter(update.counter, update.slot, current.inc, current.dec, this.hash))
    this.digest.toggle(hashCounter(update.counter, update.slot, inc, dec, this.hash))
    state.slots.set(update.slot, { inc, dec })
    state.total = nextTotal(state, inc - (current?.inc ?? 0) - (dec - (current?.dec ?? 0)))
    if (origin === 'restore') return true
    this.onStore({ counter: update.counter, slot: update.slot, inc, dec })
    if (this.hasChangeListeners())
      this.onChange({ type: 'counter', counter: update.counter, value: state.total, origin })
    return true
  }

  /** Every stored entry, tombstones included, in no particular order. */
  *entries(): IterableIterator<EntryUpdate> {
    for (const [collection, entries] of this.collections) {
      for (let slot = 0; slot < entries.slotLimit; slot++) {
        if (entries.has(slot)) yield entries.read(slot, collection)
      }
    }
  }

  /** Every counter slot. */
  *counterSlots(): IterableIterator<CounterUpdate> {
    for (const [counter, state] of this.counters) {
      for (const [slot, { inc, dec }] of state.slots) yield { counter, slot, inc, dec }
    }
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
    this.ageDigest(now)
    const horizon = now - this.tombstoneTtl
    const written = Math.min(now, watermark ?? now) - this.tombstoneTtl
    yield* this.dropWhere(
      (entries, slot) =>
        entries.isCollectable(slot, horizon) &&
        entries.wallOf(slot) < written &&
        !this.counts(entries.isDeleted(slot), entries.wallOf(slot), entries.expiryOf(slot)),
      batch
    )
  }

  /**
   * Moves the digest's line to the tombstone TTL before `now`, down to a multiple of the digest's epoch,
   * leaving out the entries that died before it. Every peer moves it at the same moments (by its
   * clock), so replicas holding the same entries show the same digest whether or not each has
   * collected the dead ones yet. Called before the digest is read; scans the replica once per epoch.
   */
  ageDigest(now = this.clock.now()): void {
    const line = this.lineAt(now)
    if (line <= this.digestLine) return
    const from = this.digestLine
    this.digestLine = line
    for (const [collection, entries] of this.collections) {
      for (let slot = 0; slot < entries.slotLimit; slot++) {
        if (!entries.has(slot)) continue
        const died = entries.isDeleted(slot) ? entries.wallOf(slot) : entries.expiryOf(slot)
        if (died !== 0 && died >= from && died < line)
          this.digest.toggle(hashEntry(entries.read(slot, collection), this.hash))
      }
    }
  }

  /** The digest's line at `now`. */
  private lineAt(now: number): number {
    const line = now - this.tombstoneTtl
    const epoch = digestEpoch(this.tombstoneTtl)
    return line - (((line % epoch) + epoch) % epoch)
  }

  /** Whether the digest counts an entry: live, or dead (removed at `wall`, or expired) since the digest's line. */
  private counts(deleted: boolean, wall: number, expiresAt: number): boolean {
    const died = deleted ? wall : expiresAt
    return died === 0 || died >= this.digestLine
  }

  /** The stored version of a key (tombstones included), if any. */
  entry(collection: string, key: string): EntryUpdate | undefined {
    const entries = this.collections.get(collection)
    const slot = entries?.find(key) ?? -1
    return slot < 0 ? undefined : entries?.read(slot, collection)
  }

  /**
   * Walks everything stored, yielding after every `scanBatch` members scanned the
   * entries and counter slots that fall in the buckets `mask` marks (mask[b] !== 0).
   * Batches may be empty: each yield is a chance for the caller to let the event loop run.
   */
  *scanBuckets(mask: Uint8Array, scanBatch: number): Generator<{ entries: EntryUpdate[]; counters: CounterUpdate[] }> {
    if (mask.length !== BUCKETS) throw new RangeError(`bucket mask must have ${BUCKETS} elements`)
    let entries: EntryUpdate[] = []
    const counters: CounterUpdate[] = []
    let scanned = 0
    for (const [collection, stored] of this.collections) {
      for (let slot = 0; slot < stored.slotLimit; slot++) {
        if (!stored.has(slot)) continue
        const key = stored.keyOf(slot) as string
        if (mask[bucketOf(collection, key)] !== 0) entries.push(stored.read(slot, collection, key))
        if (++scanned % scanBatch === 0) {
          yield { entries, counters }
          entries = []
        }
      }
    }
    for (const slot of this.counterSlots()) {
      if (mask[counterBucketOf(slot.counter, slot.slot)] !== 0) counters.push(slot)
    }
    yield { entries, counters }
  }

  /**
   * Every stored entry, as the encoded entry tuples of UPDATES frames of at most
   * `frameEntries` entries and about `frameBytes` bytes, written straight from the store
   * (no entry objects): what a sync round sends when every bucket is wanted, as for a peer
   * that joins empty. Each batch names its writers by number in `nodes` (every writer this
   * replica knows). Yields undefined after every `scanBatch` slots scanned, a chance to
   * let the event loop run. Returns false at once, yielding nothing, when there are too
   * many writers for one node table per frame (the caller then sends entry by entry).
   */
  *encodeEverything(
    frameEntries: number,
    frameBytes: number,
    scanBatch: number
  ): Generator<{ nodes: readonly string[]; entries: Uint8Array; count: number } | undefined, boolean> {
    if (this.writers.all().length > MAX_FRAME_WRITERS) return false
    let body = new Writer(frameBytes + 1024)
    let count = 0
    const finish = () => {
      const batch = { nodes: this.writers.all(), entries: body.finish(), count }
      body = new Writer(frameBytes + 1024)
      count = 0
      return batch
    }
    let scanned = 0
    for (const [collection, stored] of this.collections) {
      const name = new Writer(collection.length * 3 + 5)
      name.str(collection)
      const nameBytes = name.finish()
      for (let slot = 0; slot < stored.slotLimit; slot++) {
        if (++scanned % scanBatch === 0) yield undefined
        if (!stored.has(slot)) continue
        if (count > 0 && (count >= frameEntries || body.length + stored.recordBytes(slot) > frameBytes)) yield finish()
        stored.encodeEntry(body, slot, nameBytes)
        count++
      }
    }
    if (count > 0) yield finish()
    return true
  }

  /** Removes the entries `drop` picks by slot, yielding the count so far after every `batch` scanned, and at the end. */
  private *dropWhere(drop: (entries: Collection, slot: number) => boolean, batch: number): Generator<number> {
    let dropped = 0
    let scanned = 0
    for (const [name, entries] of this.collections) {
      for (let slot = 0; slot < entries.slotLimit; slot++) {
        if (!entries.has(slot)) continue
        if (drop(entries, slot)) {
          this.forget(entries.read(slot, name))
          entries.delete(slot)
          dropped++
        }
        if (++scanned % batch === 0) yield dropped
      }
      if (entries.size === 0) this.collections.delete(name)
    }
    yield dropped
  }

  size(): ReplicaSize {
    return {
      entries: this.stored - this.tombstones,
      dead: this.tombstones,
      counters: this.counters.size,
      collections: this.collections.size
    }
  }

  /** Counts a stored entry in the digest and the size figures (`known`: its hash, when computed already). */
  private remember(entry: EntryUpdate, known?: MemberHash): void {
    if (this.counts(entry.deleted, entry.wall, entry.expiresAt))
      this.digest.toggle(known ?? hashEntry(entry, this.hash))
    this.stored++
    if (entry.deleted) this.tombstones++
  }

  /** Undoes {@link remember} for an entry leaving the store. */
  private forget(entry: EntryUpdate): void {
    if (this.counts(entry.deleted, entry.wall, entry.expiresAt)) this.digest.toggle(hashEntry(entry, this.hash))
    this.stored--
    if (entry.deleted) this.tombstones--
  }

  private stamp(collection: string, key: string, value: Json, expiresAt: number, deleted: boolean): EntryUpdate {
    const { wall, logical } = this.clock.tick()
    return { collection, key, wall, logical, node: this.node, expiresAt, deleted, value }
  }

  private counterState(counter: string): CounterState {
    let state = this.counters.get(counter)
    if (state === undefined) {
      state = { total: 0, slots: new Map() }
      this.counters.set(counter, state)
    }
    return state
  }
}
