/**
 * Loading a data file into the replica: its records are decoded under the wire limits and
 * merged as restored writes; what breaks the rules is left out and counted, and a torn tail
 * (a crash mid-append) is cut off the file.
 */
import { readFile, truncate } from 'node:fs/promises'
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { type DecodeLimits, decodeMessage } from '../codec/index.js'
import type { Replica } from '../store/replica.js'
import { readRecords } from './records.js'

const defaultLog = logger('sharedmem:persist')

/** What `open()` found. */
export interface LoadReport {
  /** Entries the replica holds after loading (tombstones included). */
  entries: number
  counters: number
  ms: number
  /** Bytes of torn or corrupt records dropped from the end of a log (a crash mid-append). */
  droppedBytes: number
  /** Entries and counter slots left out because they break the decoder's rules (the rest of their record loaded). */
  skipped: number
  /** Whole records left out: damaged in the middle of a file, or not a readable message. */
  skippedRecords: number
  /** Why the first of them was left out ('' when none was). */
  skipReason: string
  lastSyncAt: number
  /** What sync kept of the swarm's members (src/sync/membership.ts), if anything. */
  syncState?: unknown
}

export interface ReplayInit {
  replica: Replica
  limits: DecodeLimits
  /** Called every 100,000 records' worth of entries loaded. */
  onLoadProgress?: (loaded: number) => void
  /** Where replay logs. @default @libp2p/logger's `sharedmem:persist` */
  log?: Logger
}

const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Merges the records of `file` (if it exists) into the replica, counting into `report`. */
export async function replay(file: string, report: LoadReport, init: ReplayInit): Promise<void> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  const log = init.log ?? defaultLog
  const { records, validBytes, torn, skipped } = readRecords(bytes, init.limits.maxMessageBytes)
  if (skipped > 0) skip(log, report, file, 'records', skipped, 'a record in the middle of the file failed its checksum')
  const { replica } = init
  let step = Math.floor(report.entries / 100_000)
  for (const payload of records) {
    let message: ReturnType<typeof decodeMessage>
    try {
      message = decodeMessage(payload, init.limits)
    } catch (err) {
      skip(log, report, file, 'records', 1, (err as Error).message)
      continue
    }
    if (message.type !== 'updates') continue
    if (message.refused.length > 0)
      skip(log, report, file, 'entries', message.refused.length, message.refused[0].message)
    for (const entry of message.entries) if (replica.mergeEntry(entry, 'restore')) report.entries++
    for (const counter of message.counters) if (replica.mergeCounter(counter, 'restore')) report.counters++
    if (Math.floor(report.entries / 100_000) > step) {
      step = Math.floor(report.entries / 100_000)
      init.onLoadProgress?.(report.entries)
      await breathe()
    }
  }
  if (torn) {
    report.droppedBytes += bytes.byteLength - validBytes
    log('dropped %d bytes of torn records at the end of %s', bytes.byteLength - validBytes, file)
    await truncate(file, validBytes)
  }
}

/** Counts what loading left out; logs the first reason only (the counts are in status()). */
function skip(
  log: Logger,
  report: LoadReport,
  file: string,
  what: 'entries' | 'records',
  count: number,
  reason: string
): void {
  if (what === 'entries') report.skipped += count
  else report.skippedRecords += count
  // Once: a file of many bad entries must not flood the log; the counts are in status().
  if (report.skipReason === '') log.error('left out %d unreadable %s of %s: %s', count, what, file, reason)
  if (report.skipReason === '') report.skipReason = reason
}
