/**
 * Splits a stream of entry and counter updates into UPDATES messages bounded by
 * a count and (softly) by bytes: a single larger value still goes alone. Gossip,
 * sync and persistence all cut their messages and records here.
 */
import type { CounterUpdate } from '../store/types.js'
import { type WireEntry, wireSize } from './updates.js'

export interface Batch {
  entries: WireEntry[]
  counters: CounterUpdate[]
}

export class Batcher {
  private readonly maxEntries: number
  private readonly maxBytes: number
  private entries: WireEntry[] = []
  private counters: CounterUpdate[] = []
  private bytes = 0

  constructor(maxEntries: number, maxBytes: number) {
    this.maxEntries = maxEntries
    this.maxBytes = maxBytes
  }

  /** Adds an entry (measuring its value if not yet done); returns a full batch to send first, if any. */
  addEntry(entry: WireEntry): Batch | undefined {
    const size = wireSize(entry)
    const full = this.size() > 0 && (this.size() >= this.maxEntries || this.bytes + size > this.maxBytes)
    const batch = full ? this.take() : undefined
    this.entries.push(entry)
    this.bytes += size
    return batch
  }

  /** Adds a counter slot; returns a full batch to send first, if any. */
  addCounter(counter: CounterUpdate): Batch | undefined {
    const batch = this.size() >= this.maxEntries ? this.take() : undefined
    this.counters.push(counter)
    return batch
  }

  /** What has been added since the last batch, if anything. */
  take(): Batch | undefined {
    if (this.size() === 0) return undefined
    const batch = { entries: this.entries, counters: this.counters }
    this.entries = []
    this.counters = []
    this.bytes = 0
    return batch
  }

  private size(): number {
    return this.entries.length + this.counters.length
  }
}
