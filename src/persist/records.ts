/**
 * Record framing of the data files: `[length u32 LE][crc32 u32 LE][payload]`.
 * A reader stops at the first record that is cut short or fails its checksum —
 * what a crash in the middle of an append leaves — and reports how many bytes
 * were valid, so the tail can be dropped. A record that fails its checksum but is
 * followed by a whole, valid record is damage in the middle of a file, not a torn
 * tail: it alone is skipped (and counted), so that the records after it still load.
 * No record is empty (every payload is a message), so a run of zeros — what some
 * filesystems show past the last write after a crash — is a torn tail too.
 */
import { crc32 } from 'node:zlib'

const HEADER = 8

export function frameRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.byteLength)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.byteLength, true)
  view.setUint32(4, crc32(payload), true)
  out.set(payload, HEADER)
  return out
}

export interface ReadResult {
  records: Uint8Array[]
  /** Bytes of whole, valid records from the start of the buffer. */
  validBytes: number
  /** True when bytes after the valid records were dropped (a torn or corrupt tail). */
  torn: boolean
  /** Records skipped in the middle: they failed their checksum, and a valid record follows. */
  skipped: number
}

export function readRecords(buffer: Uint8Array, maxRecordBytes: number): ReadResult {
  const records: Uint8Array[] = []
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  /** End of the record at `at` if it is whole and passes its checksum; else -1 (or -2 when its length is implausible). */
  const check = (at: number): number => {
    if (at + HEADER > buffer.byteLength) return -2
    const length = view.getUint32(at, true)
    const end = at + HEADER + length
    if (length === 0 || length > maxRecordBytes || end > buffer.byteLength) return -2
    return crc32(buffer.subarray(at + HEADER, end)) === view.getUint32(at + 4, true) ? end : -1
  }
  let offset = 0
  let skipped = 0
  while (offset < buffer.byteLength) {
    const end = check(offset)
    if (end >= 0) {
      records.push(buffer.subarray(offset + HEADER, end))
      offset = end
      continue
    }
    if (end === -2) break
    const next = offset + HEADER + view.getUint32(offset, true)
    if (next === buffer.byteLength || check(next) < 0) break
    skipped++
    offset = next
  }
  return { records, validBytes: offset, torn: offset !== buffer.byteLength, skipped }
}
