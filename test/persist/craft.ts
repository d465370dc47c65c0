/**
 * Data files crafted with the project's own record writer, for tests that load unreadable
 * ones: a record of entries, one with an expiry the decoder refuses, and a log to hold them.
 */
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeUpdates } from '../../src/codec/index.js'
import { frameRecord } from '../../src/persist/records.js'

/** A record of entries of collection `c` (`node`'s writes; each value is its key). */
export function entryRecord(node: string, keys: string[], expiresAt: (key: string) => number = () => 0): Uint8Array {
  const wall = Date.now()
  const updates = keys.map((key) => ({
    update: { collection: 'c', key, wall, logical: 0, node, expiresAt: expiresAt(key), deleted: false, value: key }
  }))
  return frameRecord(encodeUpdates(updates, []))
}

/** Stands for the bad expiry while encoding: written as a float64 (above 32 bits), unique in the bytes. */
const STAND_IN = 2 ** 52 + 7

/**
 * A record of `keys` in which `bad`'s expiry is 1e300 (not a safe integer, as an earlier release
 * could write): encoded with a stand-in, patched in the bytes, then framed with a matching checksum.
 */
export function badExpiryRecord(node: string, keys: string[], bad: string): Uint8Array {
  const payload = Buffer.from(entryRecord(node, keys, (key) => (key === bad ? STAND_IN : 0)).subarray(8))
  const marker = Buffer.alloc(9)
  marker[0] = 0xcb
  marker.writeDoubleBE(STAND_IN, 1)
  const at = payload.indexOf(marker)
  if (at < 0) throw new Error('the stand-in expiry is not in the encoded record')
  payload.writeDoubleBE(1e300, at + 1)
  return frameRecord(payload)
}

/** Adds `records` to a data directory (one a peer has used) as a log after its last. */
export async function appendLog(dataDir: string, ...records: Uint8Array[]): Promise<void> {
  const logs = (await readdir(dataDir)).filter((f) => f.startsWith('wal-')).sort()
  const last = Number(/\d+/.exec(logs.at(-1) as string)?.[0])
  await writeFile(join(dataDir, `wal-${String(last + 1).padStart(10, '0')}.log`), Buffer.concat(records))
}
