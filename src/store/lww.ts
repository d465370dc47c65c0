/**
 * The rules every replica applies alike to an entry version: which of two wins
 * (last-writer-wins), whether it is visible, and whether it is dead past the
 * tombstone horizon.
 */
import { compareStamps } from '../clock/index.js'
import { encodeValue } from './encoded.js'
import type { EntryUpdate } from './types.js'

/**
 * Last-writer-wins order: by stamp, and — for two versions with the same stamp (a touch, which
 * keeps its version's stamp; otherwise only a dishonest peer) — by content: deletion, then the
 * later deadline (none counts as the latest: a touch extends a value's life), then the value's
 * MessagePack bytes, so that every replica keeps the same one.
 */
export function compareEntries(a: EntryUpdate, b: EntryUpdate): number {
  const byStamp = compareStamps(a, b)
  if (byStamp !== 0 || a === b) return byStamp
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1
  if (a.expiresAt !== b.expiresAt) return a.expiresAt === 0 ? 1 : b.expiresAt === 0 ? -1 : a.expiresAt - b.expiresAt
  if (a.deleted) return 0
  // By the value's bytes: the same write received twice compares equal without decoding.
  return Buffer.compare(bytesOf(a), bytesOf(b))
}

function bytesOf(e: EntryUpdate): Uint8Array {
  return e.encoded ?? encodeValue(e.value)
}

/** Whether an entry is visible at `now`: not removed, and not expired. */
export function isLive(deleted: boolean, expiresAt: number, now: number): boolean {
  return !deleted && (expiresAt === 0 || expiresAt > now)
}

/** Whether an entry has been dead since before `horizon`: then neither kept nor accepted. */
export function isCollectable(deleted: boolean, wall: number, expiresAt: number, horizon: number): boolean {
  return (deleted && wall < horizon) || (expiresAt !== 0 && expiresAt < horizon)
}
