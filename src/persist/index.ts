/**
 * Persistence of a replica in a data directory (files.ts names its files): a
 * snapshot plus append-only logs of CRC-framed records (records.ts), each record
 * an UPDATES message of the wire codec, loaded back by replay.ts.
 *
 * Stored updates are buffered and appended every `fsyncInterval` ms (then
 * fsynced): a crash loses at most that much. Replaying a record twice is
 * harmless (merges are idempotent), which keeps compaction simple: start a new
 * log, write a snapshot of the live replica, then delete the old logs.
 */

import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { type Batch, Batcher } from '../codec/batcher.js'
import { type DecodeLimits, encodeUpdates } from '../codec/index.js'
import type { PersistenceStatus } from '../contract.js'
import type { Replica } from '../store/replica.js'
import type { CounterUpdate, EntryUpdate } from '../store/types.js'
import { META, readMeta, SNAPSHOT, syncDirectory, WAL, walName, writeDurably } from './files.js'
import type { DataDirLock } from './lock.js'
import { frameRecord } from './records.js'
import { type LoadReport, replay } from './replay.js'

export type { LoadReport } from './replay.js'

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
  /** Where this part logs. @default @libp2p/logger's `sharedmem:persist` */
  log?: Logger
}

export class Persistence {
  readonly status: PersistenceStatus
  lastSyncAt = 0
  /** What sync knows of the swarm's members: written with lastSyncAt, so a restart keeps waiting for the same members. */
  syncState: unknown
  private readonly init: PersistenceInit
  private readonly log: Logger
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
    this.log = init.log ?? logger('sharedmem:persist')
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
    await replay(join(this.init.dir, SNAPSHOT), report, this.init)
    const logs = (await readdir(this.init.dir)).filter((f) => WAL.test(f)).sort()
    for (const name of logs) await replay(join(this.init.dir, name), report, this.init)
    const meta = await readMeta(this.init.dir)
    if (meta.lastSyncAt !== undefined) report.lastSyncAt = meta.lastSyncAt
    if (meta.members !== undefined) report.syncState = this.syncState = meta.members
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
