/**
 * Reading a whole replica for sync: every entry, the entries of chosen digest
 * buckets, and every entry written as UPDATES frames straight from the store.
 * Each walk yields now and then, a chance for its caller to let the event loop run.
 */
import { Writer } from '../value/writer.js'
import type { Collection } from './collection.js'
import type { Counters } from './counters.js'
import { BUCKETS, counterBucketOf } from './digest.js'
import type { CounterUpdate, EntryUpdate } from './types.js'
import type { Writers } from './writers.js'

/** Most writers a replica may know for {@link encodeEverything} to send its table in every frame. */
const MAX_FRAME_WRITERS = 256
/**
 * The first frame of {@link encodeEverything} holds this share of the limits, and each next one
 * twice the one before, up to them: a joiner decodes its first frames with code V8 has not
 * compiled yet, and a full first frame was among the longest blocks of its event loop.
 */
const FIRST_FRAME_SHARE = 64

/** Every stored entry, tombstones included, in no particular order. */
export function* allEntries(collections: Iterable<Collection>): IterableIterator<EntryUpdate> {
  for (const entries of collections) {
    for (let slot = 0; slot < entries.slotLimit; slot++) {
      if (entries.has(slot)) yield entries.read(slot)
    }
  }
}

/**
 * Yields, after every `scanBatch` members scanned, the entries and counter slots that fall in
 * the buckets `mask` marks (mask[b] !== 0). Batches may be empty.
 */
export function* scanBuckets(
  collections: Iterable<Collection>,
  counters: Counters,
  mask: Uint8Array,
  scanBatch: number
): Generator<{ entries: EntryUpdate[]; counters: CounterUpdate[] }> {
  if (mask.length !== BUCKETS) throw new RangeError(`bucket mask must have ${BUCKETS} elements`)
  let entries: EntryUpdate[] = []
  const slots: CounterUpdate[] = []
  let scanned = 0
  for (const stored of collections) {
    for (let slot = 0; slot < stored.slotLimit; slot++) {
      if (!stored.has(slot)) continue
      // The bucket from the record's bytes: a key string for every member scanned kept the collector busy.
      if (mask[stored.bucketAt(slot)] !== 0) entries.push(stored.read(slot))
      if (++scanned % scanBatch === 0) {
        yield { entries, counters: slots }
        entries = []
      }
    }
  }
  for (const slot of counters.slots()) {
    if (mask[counterBucketOf(slot.counter, slot.slot)] !== 0) slots.push(slot)
  }
  yield { entries, counters: slots }
}

/**
 * Every stored entry, as the encoded entry tuples of UPDATES frames of at most `frameEntries`
 * entries and about `frameBytes` bytes, written straight from the store (no entry objects):
 * what a sync round sends when every bucket is wanted, as for a peer that joins empty. Each
 * batch names its writers by number in `nodes` (every writer the replica knows). The first
 * frames are smaller: a 64th of the limits, then twice the frame before. Yields
 * undefined after every `scanBatch` slots scanned. Returns false at once, yielding nothing,
 * when there are too many writers for one node table per frame (the caller then sends entry by entry).
 */
export function* encodeEverything(
  collections: Iterable<Collection>,
  writers: Writers,
  frameEntries: number,
  frameBytes: number,
  scanBatch: number
): Generator<{ nodes: readonly string[]; entries: Uint8Array; count: number } | undefined, boolean> {
  if (writers.all().length > MAX_FRAME_WRITERS) return false
  let body = new Writer(frameBytes + 1024)
  let count = 0
  let maxEntries = Math.max(1, Math.floor(frameEntries / FIRST_FRAME_SHARE))
  let maxBytes = Math.floor(frameBytes / FIRST_FRAME_SHARE)
  const finish = () => {
    const batch = { nodes: writers.all(), entries: body.finish(), count }
    body = new Writer(frameBytes + 1024)
    count = 0
    maxEntries = Math.min(frameEntries, maxEntries * 2)
    maxBytes = Math.min(frameBytes, maxBytes * 2)
    return batch
  }
  let scanned = 0
  for (const stored of collections) {
    const name = new Writer(stored.name.length * 3 + 5)
    name.str(stored.name)
    const nameBytes = name.finish()
    for (let slot = 0; slot < stored.slotLimit; slot++) {
      if (++scanned % scanBatch === 0) yield undefined
      if (!stored.has(slot)) continue
      if (count > 0 && (count >= maxEntries || body.length + stored.recordBytes(slot) > maxBytes)) {
        yield finish()
        // The frame's send waited (credit, compression): a collection pass may have freed the position meanwhile.
        if (!stored.has(slot)) continue
      }
      stored.encodeEntry(body, slot, nameBytes)
      count++
    }
  }
  if (count > 0) yield finish()
  return true
}
