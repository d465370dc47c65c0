/**
 * The entries of one received UPDATES message, column by column over the
 * message's bytes: what the codec hands a replica to merge (store/state.ts
 * `mergeBatch`). Each entry is read as an {@link EncodedEntry} whose key and value
 * stay bytes of the message: a key string and a JS value are made only for whoever
 * asks for one (change listeners, persistence), so a late joiner merges a whole
 * replica without them.
 */
import { EncodedEntry } from './encoded.js'
import { KeyBytes } from './key.js'
import type { EntryUpdate } from './types.js'

/** Fields of {@link EntryBatch.fields}, per entry. */
const F_COLLECTION = 0
const F_KEY_START = 1
const F_KEY_END = 2
const F_NODE = 3
const F_VALUE_START = 4
const F_VALUE_END = 5
const F_DELETED = 6
const FIELDS = 7

export class EntryBatch {
  /** The message the entries are read from: keys and values are ranges of it. */
  readonly bytes: Uint8Array
  /** Writers, by the number an entry names. */
  readonly nodes: readonly string[]
  /** Collection names, by the number an entry names. */
  readonly collections: string[] = []
  private readonly numbers = new Map<string, number>()
  length = 0
  private readonly fields: Uint32Array
  /** wall, logical and expiresAt of each entry. */
  private readonly times: Float64Array
  /** Keys that are not all ASCII, decoded while checked (by entry). */
  private readonly texts = new Map<number, string>()

  /** `bytes`: a plain Uint8Array (bytes/copy.ts `plainBytes`): ranges of it are copied into the store. */
  constructor(bytes: Uint8Array, nodes: readonly string[], capacity: number) {
    this.bytes = bytes
    this.nodes = nodes
    this.fields = new Uint32Array(capacity * FIELDS)
    this.times = new Float64Array(capacity * 3)
  }

  /** The number of collection `name` in this batch (entries of a batch mostly share one). */
  collectionNumber(name: string): number {
    const last = this.collections.length - 1
    if (last >= 0 && this.collections[last] === name) return last
    let n = this.numbers.get(name)
    if (n === undefined) {
      n = this.collections.push(name) - 1
      this.numbers.set(name, n)
    }
    return n
  }

  /**
   * Appends an entry (for the codec, which has checked every field). `text` is the
   * decoded key when it is not all ASCII; undefined says it is.
   */
  push(
    collection: number,
    keyStart: number,
    keyEnd: number,
    text: string | undefined,
    wall: number,
    logical: number,
    node: number,
    expiresAt: number,
    deleted: boolean,
    valueStart: number,
    valueEnd: number
  ): void {
    const i = this.length++
    const f = i * FIELDS
    this.fields[f + F_COLLECTION] = collection
    this.fields[f + F_KEY_START] = keyStart
    this.fields[f + F_KEY_END] = keyEnd
    this.fields[f + F_NODE] = node
    this.fields[f + F_VALUE_START] = valueStart
    this.fields[f + F_VALUE_END] = valueEnd
    this.fields[f + F_DELETED] = deleted ? 1 : 0
    if (text !== undefined) this.texts.set(i, text)
    this.times[i * 3] = wall
    this.times[i * 3 + 1] = logical
    this.times[i * 3 + 2] = expiresAt
  }

  collectionOf(i: number): number {
    return this.fields[i * FIELDS + F_COLLECTION]
  }

  keyStart(i: number): number {
    return this.fields[i * FIELDS + F_KEY_START]
  }

  keyEnd(i: number): number {
    return this.fields[i * FIELDS + F_KEY_END]
  }

  nodeOf(i: number): number {
    return this.fields[i * FIELDS + F_NODE]
  }

  wall(i: number): number {
    return this.times[i * 3]
  }

  logical(i: number): number {
    return this.times[i * 3 + 1]
  }

  expiresAt(i: number): number {
    return this.times[i * 3 + 2]
  }

  deleted(i: number): boolean {
    return this.fields[i * FIELDS + F_DELETED] !== 0
  }

  valueStart(i: number): number {
    return this.fields[i * FIELDS + F_VALUE_START]
  }

  valueEnd(i: number): number {
    return this.fields[i * FIELDS + F_VALUE_END]
  }

  /** Entry `i` as an object (its value still bytes of the message). */
  entry(i: number): EncodedEntry {
    const deleted = this.deleted(i)
    return new EncodedEntry(
      this.collections[this.collectionOf(i)],
      // A key not all ASCII was decoded while checked; any other is read from the message when asked for.
      this.texts.get(i) ?? new KeyBytes(this.bytes, this.keyStart(i), this.keyEnd(i)),
      this.wall(i),
      this.logical(i),
      this.nodes[this.nodeOf(i)],
      this.expiresAt(i),
      deleted,
      deleted ? undefined : this.bytes,
      this.valueStart(i),
      this.valueEnd(i)
    )
  }

  /** Every entry as an object. */
  toArray(): EntryUpdate[] {
    const out: EntryUpdate[] = []
    for (let i = 0; i < this.length; i++) out.push(this.entry(i))
    return out
  }
}
