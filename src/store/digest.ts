/**
 * An incrementally maintained digest of a replica, for anti-entropy. Every
 * entry and counter slot falls in one of BUCKETS buckets by the hash of its
 * name; a bucket's hash is the XOR of its members' 64-bit hashes (two 32-bit
 * words), so adding or removing a member costs two XORs. Buckets form GROUPS
 * groups of LEAVES_PER_GROUP, which lets two peers find their differences in two
 * short messages whatever the replicas' size.
 */
import { keyOfEntry } from './encoded.js'
import type { Key } from './key.js'
import { type CounterUpdate, type EntryUpdate, FIRST_WINDOW } from './types.js'

export const GROUPS = 64
export const LEAVES_PER_GROUP = 64
export const BUCKETS = GROUPS * LEAVES_PER_GROUP

/**
 * The digest leaves out entries dead (removed or expired) since before the tombstone TTL ago, taken
 * down to a multiple of {@link digestEpoch} ms since the epoch: a function of the TTL alone, so that
 * every peer (with the same TTL) leaves the same ones out at the same moments, and collecting them
 * (on each peer's own timer) never changes a digest. At most a minute: the replica is scanned for
 * them once an epoch.
 */
export const DIGEST_EPOCH = 60_000

/**
 * The digest's epoch for a tombstone TTL: a minute, or a tenth of a shorter TTL (a second at
 * least), so that a short horizon (tests, the chaos run) is not stretched by a whole minute before
 * anything is collected.
 */
export function digestEpoch(tombstoneTtl: number): number {
  return Math.max(MIN_DIGEST_EPOCH, Math.min(DIGEST_EPOCH, Math.floor(tombstoneTtl / 10)))
}

/** The shortest epoch: a second, so that even a tiny TTL scans the replica at most once a second. */
const MIN_DIGEST_EPOCH = 1000

/** The bucket and 64-bit hash of one member, as computed by {@link hashEntry} / {@link hashCounter}. */
export interface MemberHash {
  bucket: number
  h1: number
  h2: number
}

/** Hash seeds: entries and counter slots use different ones so their name spaces never collide. */
const ENTRY_SEED = 0x9e3779b9
const COUNTER_SEED = 0x85ebca6b

/**
 * cyrb53-style string hash into two 32-bit words (scratch[0], scratch[1]).
 * Not cryptographic: digests guard against lost updates, not against forgery.
 */
function hashString(s: string, h1: number, h2: number, out: Uint32Array): void {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  out[0] = h1
  out[1] = h2
}

function mix(out: Uint32Array, x: number): void {
  out[0] = Math.imul(out[0] ^ x, 2654435761)
  out[1] = Math.imul(out[1] ^ x, 1597334677)
}

/** Mixes a non-negative safe integer into the scratch words, as its two 32-bit halves. */
function mixNumber(n: number): void {
  mix(scratch, n % 0x100000000)
  mix(scratch, Math.floor(n / 0x100000000))
}

function finish(out: Uint32Array, target: MemberHash): MemberHash {
  let h1 = out[0]
  let h2 = out[1]
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  target.h1 = h1 >>> 0
  target.h2 = h2 >>> 0
  return target
}

const scratch = new Uint32Array(2)
const nodeHashes = new Map<string, number>()

function nodeHash(node: string): number {
  let h = nodeHashes.get(node)
  if (h === undefined) {
    hashString(node, ENTRY_SEED, COUNTER_SEED, scratch)
    h = scratch[0] ^ scratch[1]
    if (nodeHashes.size < 100_000) nodeHashes.set(node, h)
  }
  return h
}

/** The bucket of a collection/key: depends on the name only, so both peers agree on it. */
export function bucketOf(collection: string, key: string): number {
  seedOf(collection, scratch)
  hashString(key, scratch[0], scratch[1], scratch)
  return scratchBucket()
}

/**
 * {@link bucketOf} of a stored key (its record's bytes: no string made), in the collection of
 * `seed`; the scratch words then hold the name's hash, for a member hash to go on from.
 */
export function bucketStored(seed: Seed, key: Key): number {
  scratch[0] = seed.seed0
  scratch[1] = seed.seed1
  hashKeyWords(key, scratch)
  return scratchBucket()
}

/** The bucket of the name whose hash words are in scratch: one rule for entries and counters. */
function scratchBucket(): number {
  return (scratch[0] ^ (scratch[1] >>> 7)) & (BUCKETS - 1)
}

/**
 * Bucket and hash of an entry version: the name, stamp, expiry and deletion (the value follows
 * from the stamp). `seed`: the {@link collectionSeed} of its collection, when the caller has it.
 */
export function hashEntry(e: EntryUpdate, target: MemberHash = { bucket: 0, h1: 0, h2: 0 }, seed?: Seed): MemberHash {
  // nodeHash may use the scratch words itself: take it before the entry's hash starts in them.
  const node = nodeHash(e.node)
  if (seed === undefined) {
    seedOf(e.collection, scratch)
    hashKeyWords(keyOfEntry(e), scratch)
    target.bucket = scratchBucket()
  } else target.bucket = bucketStored(seed, keyOfEntry(e))
  return hashStamp(e.wall, e.logical, node, e.expiresAt, e.deleted, target)
}

/** {@link hashEntry} of a stored version, read from its collection's record and stamp columns (no entry object). */
export function hashStored(seed: Seed, key: Key, stamp: StoredStamp, slot: number, target: MemberHash): MemberHash {
  const node = nodeHash(stamp.nodeOf(slot))
  target.bucket = bucketStored(seed, key)
  return hashStamp(stamp.wallOf(slot), stamp.logicalOf(slot), node, stamp.expiryOf(slot), stamp.isDeleted(slot), target)
}

/** The stamp columns a stored version is read from (store/stamps.ts). */
export interface StoredStamp {
  wallOf(slot: number): number
  logicalOf(slot: number): number
  nodeOf(slot: number): string
  expiryOf(slot: number): number
  isDeleted(slot: number): boolean
}

/** The hash words of a collection's name, from which the names of its keys go on (kept by each collection). */
export interface Seed {
  readonly seed0: number
  readonly seed1: number
}

/** The {@link Seed} of a collection's name. */
export function collectionSeed(collection: string): Seed {
  const words = new Uint32Array(2)
  seedOf(collection, words)
  // As int32: small integers, held in an object's fields without a number box each.
  return { seed0: words[0] | 0, seed1: words[1] | 0 }
}

/** Hashes a collection's name and the separator before its keys into `out`. */
function seedOf(collection: string, out: Uint32Array): void {
  hashString(collection, ENTRY_SEED, ENTRY_SEED ^ 0x5bd1e995, out)
  hashString('\u0000', out[0], out[1], out)
}

/** Goes on hashing the words in `out` with a key's characters (an ASCII key's bytes are its characters). */
function hashKeyWords(key: Key, out: Uint32Array): void {
  if (typeof key === 'string') {
    hashString(key, out[0], out[1], out)
    return
  }
  let h1 = out[0]
  let h2 = out[1]
  const { bytes, end } = key
  for (let i = key.start; i < end; i++) {
    if (bytes[i] >= 0x80) {
      hashString(key.toString(), out[0], out[1], out)
      return
    }
    h1 = Math.imul(h1 ^ bytes[i], 2654435761)
    h2 = Math.imul(h2 ^ bytes[i], 1597334677)
  }
  out[0] = h1
  out[1] = h2
}

/** Mixes a version's stamp into the name's hash words (in scratch) and finishes the member hash. */
function hashStamp(
  wall: number,
  logical: number,
  node: number,
  expiresAt: number,
  deleted: boolean,
  target: MemberHash
): MemberHash {
  mix(scratch, wall % 0x100000000)
  mix(scratch, Math.floor(wall / 0x100000000))
  mix(scratch, logical)
  mix(scratch, node)
  mix(scratch, expiresAt % 0x100000000)
  mix(scratch, Math.floor(expiresAt / 0x100000000))
  mix(scratch, deleted ? 1 : 2)
  return finish(scratch, target)
}

/** The bucket of a counter slot. */
export function counterBucketOf(counter: string, slot: string): number {
  hashString(counter, COUNTER_SEED, COUNTER_SEED ^ 0x27d4eb2f, scratch)
  hashString('\u0000', scratch[0], scratch[1], scratch)
  hashString(slot, scratch[0], scratch[1], scratch)
  return scratchBucket()
}

/** Bucket and hash of a counter slot's state: its totals, bases and window. */
export function hashCounter(c: CounterUpdate, target: MemberHash = { bucket: 0, h1: 0, h2: 0 }): MemberHash {
  const window = c.window ?? FIRST_WINDOW
  // nodeHash may use the scratch words itself: take it before the slot's hash starts in them.
  const node = window.node === '' ? 0 : nodeHash(window.node)
  target.bucket = counterBucketOf(c.counter, c.slot)
  mixNumber(c.inc)
  mixNumber(c.dec)
  mixNumber(c.baseInc ?? 0)
  mixNumber(c.baseDec ?? 0)
  mixNumber(window.wall)
  mixNumber(window.logical)
  mixNumber(window.expiresAt)
  mix(scratch, node)
  return finish(scratch, target)
}

/** The XOR digest itself: BUCKETS leaves of two 32-bit words. */
export class Digest {
  readonly leaves = new Uint32Array(BUCKETS * 2)

  /** Adds or removes (XOR is its own inverse) one member. */
  toggle(h: MemberHash): void {
    this.leaves[h.bucket * 2] ^= h.h1
    this.leaves[h.bucket * 2 + 1] ^= h.h2
  }

  /** The hash of each group: GROUPS × 2 words. */
  groups(): Uint32Array {
    const out = new Uint32Array(GROUPS * 2)
    for (let b = 0; b < BUCKETS; b++) {
      const g = Math.floor(b / LEAVES_PER_GROUP)
      out[g * 2] ^= this.leaves[b * 2]
      out[g * 2 + 1] ^= this.leaves[b * 2 + 1]
    }
    return out
  }

  /** Fingerprint of the whole replica: the XOR of all leaves, as 16 hex digits. */
  root(): string {
    let h1 = 0
    let h2 = 0
    for (let b = 0; b < BUCKETS; b++) {
      h1 ^= this.leaves[b * 2]
      h2 ^= this.leaves[b * 2 + 1]
    }
    return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0')
  }

  /** The leaves of one group: LEAVES_PER_GROUP × 2 words (a copy). */
  groupLeaves(group: number): Uint32Array {
    const start = group * LEAVES_PER_GROUP * 2
    return this.leaves.slice(start, start + LEAVES_PER_GROUP * 2)
  }
}
