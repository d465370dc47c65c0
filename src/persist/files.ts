/**
 * The files of a data directory, by name, and how they are written durably:
 *
 *   snapshot.bin       everything, as of some moment (written to a temporary file, fsynced, renamed)
 *   wal-<seq>.log      every entry stored and counter slot changed since, in group commits
 *   meta.json          when this peer last completed a sync round, and the members sync knew
 */
import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

export const SNAPSHOT = 'snapshot.bin'
export const META = 'meta.json'
export const WAL = /^wal-(\d+)\.log$/
export const walName = (seq: number): string => `wal-${String(seq).padStart(10, '0')}.log`

/** What meta.json holds. */
export interface Meta {
  lastSyncAt?: number
  members?: unknown
}

/** Reads meta.json; none (a new directory: this peer never synced) or an unreadable one reads as `{}`. */
export async function readMeta(dir: string): Promise<Meta> {
  const found: Meta = {}
  try {
    const meta = JSON.parse(await readFile(join(dir, META), 'utf8')) as {
      lastSyncAt?: unknown
      members?: unknown
    }
    if (typeof meta.lastSyncAt === 'number') found.lastSyncAt = meta.lastSyncAt
    if (typeof meta.members === 'object' && meta.members !== null) found.members = meta.members
  } catch {
    // No meta yet (a new directory): this peer never synced.
  }
  return found
}

/**
 * Replaces `dir/name` with `text` so that a crash leaves the old file or the new one, never a torn
 * one: the members it holds are what keeps removed keys from coming back after a restart.
 */
export async function writeDurably(dir: string, name: string, text: string): Promise<void> {
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
export async function syncDirectory(dir: string): Promise<void> {
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
