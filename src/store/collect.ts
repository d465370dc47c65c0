/**
 * The collection pass: dropping entries dead past the tombstone horizon, which no
 * replica keeps or accepts any longer (docs/semantics.md, "Tombstones and collection").
 */
import type { Collection } from './collection.js'
import type { Tally } from './tally.js'

/**
 * Removes from `collections` the entries dead since before `horizon` and written before
 * `written` that the digest no longer counts, keeping `tally` up to date; drops collections
 * left empty. Yields the count dropped so far after every `batch` entries scanned, and at the end.
 */
export function* dropDead(
  collections: Map<string, Collection>,
  tally: Tally,
  horizon: number,
  written: number,
  batch: number
): Generator<number> {
  let dropped = 0
  let scanned = 0
  for (const [name, entries] of collections) {
    for (let slot = 0; slot < entries.slotLimit; slot++) {
      if (!entries.has(slot)) continue
      if (
        entries.isCollectable(slot, horizon) &&
        entries.wallOf(slot) < written &&
        !tally.countsAt(entries, slot, entries.isDeleted(slot), entries.wallOf(slot), entries.expiryOf(slot))
      ) {
        tally.remove(entries, slot)
        entries.delete(slot)
        dropped++
      }
      if (++scanned % batch === 0) yield dropped
    }
    if (entries.size === 0) collections.delete(name)
  }
  yield dropped
}
