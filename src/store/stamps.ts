/**
 * The stamp of each slot of a collection, column by column in typed arrays (no JS
 * object per entry): wall time, logical counter, writer (with the deletion flag)
 * and expiry deadline.
 */
import { compareStampParts } from '../clock/index.js'
import type { Writers } from './writers.js'

/** The bit of the writer column that marks a tombstone (writer numbers stay below it). */
const DELETED = 0x80000000
/**
 * Logical counters at or above this are kept in a map, so the column can be 16-bit: a
 * counter grows only while writes share a millisecond or follow a clock ahead of this one.
 */
const WIDE = 0xffff

/** What a slot's stamp is set from: an entry (a received one included, store/batch.ts). */
export interface StampFields {
  readonly node: string
  readonly wall: number
  readonly logical: number
  readonly expiresAt: number
  readonly deleted: boolean
}

export class Stamps {
  private wall: Float64Array
  private logical: Uint16Array
  /** Logical counters of WIDE or more, by slot. */
  private readonly wideLogical = new Map<number, number>()
  /** Allocated with the first entry that expires. */
  private expiresAt: Float64Array | undefined
  /** The writer's number in the replica's {@link Writers}, and DELETED for a tombstone. */
  private writer: Uint32Array

  constructor(
    slots: number,
    private readonly writers: Writers
  ) {
    this.wall = new Float64Array(slots)
    this.logical = new Uint16Array(slots)
    this.writer = new Uint32Array(slots)
  }

  /** Slots the columns hold. */
  get capacity(): number {
    return this.wall.length
  }

  /** Makes room for `slots` slots. */
  grow(slots: number): void {
    this.wall = resized(this.wall, new Float64Array(slots))
    this.logical = resized(this.logical, new Uint16Array(slots))
    if (this.expiresAt !== undefined) this.expiresAt = resized(this.expiresAt, new Float64Array(slots))
    this.writer = resized(this.writer, new Uint32Array(slots))
  }

  /** Sets the stamp of `slot`. */
  set(slot: number, stamp: StampFields): void {
    const writer = this.writers.numberOf(stamp.node)
    this.wall[slot] = stamp.wall
    const logical = stamp.logical
    if (logical < WIDE) {
      this.logical[slot] = logical
      if (this.wideLogical.size > 0) this.wideLogical.delete(slot)
    } else {
      this.logical[slot] = WIDE
      this.wideLogical.set(slot, logical)
    }
    if (stamp.expiresAt !== 0 || this.expiresAt !== undefined) {
      this.expiresAt ??= new Float64Array(this.wall.length)
      this.expiresAt[slot] = stamp.expiresAt
    }
    this.writer[slot] = stamp.deleted ? writer | DELETED : writer
  }

  /** Forgets what only a slot in use needs (its wide counter). */
  clear(slot: number): void {
    if (this.wideLogical.size > 0) this.wideLogical.delete(slot)
  }

  wallOf(slot: number): number {
    return this.wall[slot]
  }

  logicalOf(slot: number): number {
    const l = this.logical[slot]
    return l === WIDE ? (this.wideLogical.get(slot) as number) : l
  }

  /** The writer as its number in the replica's {@link Writers}. */
  writerOf(slot: number): number {
    return (this.writer[slot] & ~DELETED) >>> 0
  }

  /** The writer's peer id. */
  nodeOf(slot: number): string {
    return this.writers.idOf(this.writerOf(slot))
  }

  isDeleted(slot: number): boolean {
    return (this.writer[slot] & DELETED) !== 0
  }

  /** Whether any entry of the collection ever had an expiry (else every {@link expiryOf} is 0). */
  get expires(): boolean {
    return this.expiresAt !== undefined
  }

  expiryOf(slot: number): number {
    return this.expiresAt === undefined ? 0 : this.expiresAt[slot]
  }

  /** The last-writer-wins order of stamp (`wall`, `logical`, `node`) against the stamp of `slot` (clock/hlc.ts). */
  compare(wall: number, logical: number, node: string, slot: number): number {
    return compareStampParts(wall, logical, node, this.wall[slot], this.logicalOf(slot), this.nodeOf(slot))
  }
}

function resized<T extends Float64Array | Uint32Array | Uint16Array>(from: T, to: T): T {
  to.set(from)
  return to
}
