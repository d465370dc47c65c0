/**
 * Persistence of a replica in a data directory: a snapshot plus append-only
 * logs of CRC-framed records (records.ts), each record an UPDATES message of
 * the wire codec.
 *
 *   snapshot.bin       everything, as of some moment (written to a temporary file, fsynced, renamed)
 *   wal-<seq>.log      every entry stored and counter slot changed since, in group commits
 *   meta.json          when this peer last completed a sync round
 *
 * Stored updates are buffered and appended every `fsyncInterval` ms (then
 * fsynced): a crash loses at most that much. Replaying a record twice is
 * harmless (merges are idempotent), which keeps compaction simple: start a new
 * log, write a snapshot of the live replica, then delete the old logs.
 */

import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, readFile, rename, rm, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { type Batch, Batcher } from '../codec/batcher.js'
import { type DecodeLimits, decodeMessage, encodeUpdates } from '../codec/index.js'
import type { PersistenceStatus } from '../contract.js'
import type { Replica } from '../store/replica.js'
import type { CounterUpdate, EntryUpdate } from '../store/types.js'
import type { DataDirLock } from './lock.js'
import { frameRecord, readRecords } from './records.js'

export interface PersistenceInit {
  dir: string
  replica: Replica
  limits: DecodeLimits
  /** Group-commit interval in ms; 0 = at the end of every event-loop turn. */
  fsyncInterval: number
  /** Log size, in bytes, past which a snapshot is written and the logs dropped. */
  compactBytes: number
  /** Entries per record. */
  chunkEntries: number
  /** Soft byte limit of one record's values (a single larger value still goes alone). */
  chunkBytes: number
  /** Called every 100,000 records' worth of entries loaded. */
  onLoadProgress?: (loaded: number) => void
  /** The lock on `dir` (lock.ts), taken by the caller before anything else reads the directory; released by close(). */
  lock?: DataDirLock
}

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

const SNAPSHOT = 'snapshot.bin'
const META = 'meta.json'
const WAL = /^wal-(\d+)\.log$/
const walName = (seq: number): string => `wal-${String(seq).padStart(10, '0')}.log`
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class Persistence {
  readonly status: PersistenceStatus
  lastSyncAt = 0
  /** What sync knows of the swarm's members: written with lastSyncAt, so a restart keeps waiting for the same members. */
  syncState: unknown
  private readonly init: PersistenceInit
  private readonly log: Logger = logger('sharedmem:persist')
  private readonly entries = new Map<string, EntryUpdate>()
  private readonly counters = new Map<string, CounterUpdate>()
  private wal: FileHandle | undefined
  private seq = 0
  private oldLogs: string[] = []
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  /** Settles when the group commit that will take the updates buffered now is done. */
  private nextCommit: PromiseWithResolvers<void> | undefined
  /** Flushes and compactions run one at a time, in order. */
  private queue: Promise<void> = Promise.resolve()
  private savedSyncAt = 0

  constructor(init: PersistenceInit) {
    this.init = init
    this.status = {
      dataDir: init.dir,
      loadedEntries: 0,
      loadMs: 0,
      droppedBytes: 0,
      skipped: 0,
      skippedRecords: 0,
      skipReason: '',
      logBytes: 0,
      snapshots: 0,
      lastFsyncAt: 0
    }
  }

  /** Restores the replica from the directory (creating it if needed) and opens a new log. */
  async open(): Promise<LoadReport> {
    const started = Date.now()
    await mkdir(this.init.dir, { recursive: true })
    const report: LoadReport = {
      entries: 0,
      counters: 0,
      ms: 0,
      droppedBytes: 0,
      skipped: 0,
      skippedRecords: 0,
      skipReason: '',
      lastSyncAt: 0
    }
    await this.replay(join(this.init.dir, SNAPSHOT), report)
    const logs = (await readdir(this.init.dir)).filter((f) => WAL.test(f)).sort()
    for (const name of logs) await this.replay(join(this.init.dir, name), report)
    try {
      const meta = JSON.parse(await readFile(join(this.init.dir, META), 'utf8')) as {
        lastSyncAt?: unknown
        members?: unknown
      }
      if (typeof meta.lastSyncAt === 'number') report.lastSyncAt = meta.lastSyncAt
      if (typeof meta.members === 'object' && meta.members !== null) report.syncState = this.syncState = meta.members
    } catch {
      // No meta yet (a new directory): this peer never synced.
    }
    const size = this.init.replica.size()
    report.entries = size.entries + size.dead
    this.lastSyncAt = this.savedSyncAt = report.lastSyncAt
    this.seq = logs.length > 0 ? Number(WAL.exec(logs[logs.length - 1])?.[1]) + 1 : 1
    this.oldLogs = logs
    this.wal = await open(join(this.init.dir, walName(this.seq)), 'a')
    report.ms = Date.now() - started
    const { droppedBytes, skipped, skippedRecords, skipReason } = report
    Object.assign(this.status, {
      loadedEntries: report.entries,
      loadMs: report.ms,
      droppedBytes,
      skipped,
      skippedRecords,
      skipReason
    })
    // Fold what was replayed into a fresh snapshot, so the next start reads one file (without what was skipped).
    if (logs.length > 0 || skipped + skippedRecords > 0) this.enqueue(() => this.snapshot())
    return report
  }

  /** Buffers an update for the next group commit (only its latest version is kept). */
  record(update: EntryUpdate | CounterUpdate): void {
    if (this.wal === undefined) return
    if ('slot' in update) this.counters.set(`${update.counter}\u0000${update.slot}`, update)
    else this.entries.set(`${update.collection}\u0000${update.key}`, update)
    if (this.timer === undefined) {
      const run = (): void => {
        this.timer = undefined
        this.enqueueCommit()
      }
      this.timer = this.init.fsyncInterval === 0 ? setImmediate(run) : setTimeout(run, this.init.fsyncInterval)
    }
  }

  /**
   * Writes a fresh snapshot soon: after entries left the replica without a write
   * (dropped as stale), so that the old files cannot bring them back on restart.
   */
  snapshotSoon(): void {
    if (this.wal === undefined) return
    this.enqueue(() => this.flush())
    this.enqueue(() => this.snapshot())
  }

  /**
   * Resolves once every update recorded so far is written and fsynced (at the next group commit);
   * rejects if that commit fails. Without a data directory it resolves at once.
   */
  persisted(): Promise<void> {
    if (this.wal === undefined) return Promise.resolve()
    if (this.timer !== undefined) {
      this.nextCommit ??= Promise.withResolvers<void>()
      return this.nextCommit.promise
    }
    // Nothing buffered: what was recorded is in a commit already queued or running.
    return this.queue
  }

  /** Resolves once every write and snapshot queued so far is done. */
  async idle(): Promise<void> {
    await this.queue
  }

  /** Writes what is buffered, closes the log, then releases the directory's lock (also after a failed open). */
  async close(): Promise<void> {
    try {
      if (this.wal === undefined) return
      clearTimeout(this.timer as NodeJS.Timeout)
      clearImmediate(this.timer as NodeJS.Immediate)
      this.timer = undefined
      this.enqueueCommit()
      await this.queue
      await this.wal.close()
      this.wal = undefined
    } finally {
      await this.init.lock?.release()
    }
  }

  /** Queues the group commit of what is buffered, settling whoever waits for it. */
  private enqueueCommit(): void {
    const commit = this.nextCommit
    this.nextCommit = undefined
    this.enqueue(async () => {
      try {
        await this.flush()
        commit?.resolve()
      } catch (err) {
        commit?.reject(err)
        throw err
      }
    })
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.log.error('writing %s failed: %e', this.init.dir, err)
    })
  }

  private async replay(file: string, report: LoadReport): Promise<void> {
    let bytes: Uint8Array
    try {
      bytes = await readFile(file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const { records, validBytes, torn, skipped } = readRecords(bytes, this.init.limits.maxMessageBytes)
    if (skipped > 0)
      this.skip(report, file, 'records', skipped, 'a record in the middle of the file failed its checksum')
    const { replica } = this.init
    let step = Math.floor(report.entries / 100_000)
    for (const payload of records) {
      let message: ReturnType<typeof decodeMessage>
      try {
        message = decodeMessage(payload, this.init.limits)
      } catch (err) {
        this.skip(report, file, 'records', 1, (err as Error).message)
        continue
      }
      if (message.type !== 'updates') continue
      if (message.refused.length > 0)
        this.skip(report, file, 'entries', message.refused.length, message.refused[0].message)
      for (const entry of message.entries) if (replica.mergeEntry(entry, 'restore')) report.entries++
      for (const counter of message.counters) if (replica.mergeCounter(counter, 'restore')) report.counters++
      if (Math.floor(report.entries / 100_000) > step) {
        step = Math.floor(report.entries / 100_000)
        this.init.onLoadProgress?.(report.entries)
        await breathe()
      }
    }
    if (torn) {
      report.droppedBytes += bytes.byteLength - validBytes
      this.log('dropped %d bytes of torn records at the end of %s', bytes.byteLength - validBytes, file)
      await truncate(file, validBytes)
    }
  }

  /** Counts what loading left out; logs the first reason only (the counts are in status()). */
  private skip(report: LoadReport, file: string, what: 'entries' | 'records', count: number, reason: string): void {
    if (what === 'entries') report.skipped += count
    else report.skippedRecords += count
    // Once: a file of many bad entries must not flood the log; the counts are in status().
    if (report.skipReason === '') this.log.error('left out %d unreadable %s of %s: %s', count, what, file, reason)
    if (report.skipReason === '') report.skipReason = reason
  }

  /** Appends buffered updates as records and fsyncs; compacts when the log has grown. */
  private async flush(): Promise<void> {
    const wal = this.wal
    if (wal === undefined) return
    const frames = [...this.records(this.entries.values(), this.counters.values())]
    this.entries.clear()
    this.counters.clear()
    if (frames.length > 0) {
      const bytes = Buffer.concat(frames)
      await wal.write(bytes)
      await wal.datasync()
      this.status.logBytes += bytes.byteLength
      this.status.lastFsyncAt = Date.now()
    }
    if (this.lastSyncAt !== this.savedSyncAt) {
      this.savedSyncAt = this.lastSyncAt
      await writeDurably(this.init.dir, META, JSON.stringify({ lastSyncAt: this.lastSyncAt, members: this.syncState }))
    }
    if (this.status.logBytes > this.init.compactBytes) await this.snapshot()
  }

  /** Framed records of these updates, cut like messages: by count and, softly, by bytes. */
  private *records(entries: Iterable<EntryUpdate>, counters: Iterable<CounterUpdate>): Generator<Uint8Array> {
    const batcher = new Batcher(this.init.chunkEntries, this.init.chunkBytes)
    const record = (batch: Batch): Uint8Array => frameRecord(encodeUpdates(batch.entries, batch.counters))
    for (const update of entries) {
      const full = batcher.addEntry({ update })
      if (full !== undefined) yield record(full)
    }
    for (const counter of counters) {
      const full = batcher.addCounter(counter)
      if (full !== undefined) yield record(full)
    }
    const rest = batcher.take()
    if (rest !== undefined) yield record(rest)
  }

  /** Starts a new log, writes the whole replica to a new snapshot, then drops the old logs. */
  private async snapshot(): Promise<void> {
    if (this.wal === undefined) return
    await this.wal.close()
    this.oldLogs.push(walName(this.seq))
    this.seq++
    this.wal = await open(join(this.init.dir, walName(this.seq)), 'a')
    this.status.logBytes = 0
    const tmp = join(this.init.dir, `${SNAPSHOT}.tmp`)
    const out = await open(tmp, 'w')
    try {
      const { replica } = this.init
      for (const record of this.records(replica.entries(), replica.counterSlots())) await out.write(record)
      await out.datasync()
    } finally {
      await out.close()
    }
    await rename(tmp, join(this.init.dir, SNAPSHOT))
    await syncDirectory(this.init.dir)
    for (const name of this.oldLogs) await rm(join(this.init.dir, name), { force: true })
    this.oldLogs = []
    this.status.snapshots++
  }
}

/**
 * Replaces `dir/name` with `text` so that a crash leaves the old file or the new one, never a torn
 * one: the members it holds are what keeps removed keys from coming back after a restart.
 */
async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`)
  const out = await open(tmp, 'w')
  try {
    await out.writeFile(text)
    await out.datasync()
  } finally {
    await out.close()
  }
  await rename(tmp, join(dir, name))
  await syncDirectory(dir)
}

/** Makes a rename durable where the platform allows it (Windows cannot open a directory). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Not supported here: the rename is still atomic, only its durability waits for the OS.
  }
}
