/**
 * Record framing of the data files: `[length u32 LE][crc32 u32 LE][payload]`.
 * A reader stops at the first record that is cut short or fails its checksum —
 * what a crash in the middle of an append leaves — and reports how many bytes
 * were valid, so the tail can be dropped.
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
}

export function readRecords(buffer: Uint8Array, maxRecordBytes: number): ReadResult {
  const records: Uint8Array[] = []
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  let offset = 0
  while (offset + HEADER <= buffer.byteLength) {
    const length = view.getUint32(offset, true)
    const sum = view.getUint32(offset + 4, true)
    const end = offset + HEADER + length
    if (length > maxRecordBytes || end > buffer.byteLength) break
    const payload = buffer.subarray(offset + HEADER, end)
    if (crc32(payload) !== sum) break
    records.push(payload)
    offset = end
  }
  return { records, validBytes: offset, torn: offset !== buffer.byteLength }
}
