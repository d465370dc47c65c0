/**
 * An exclusive lock on a data directory. Two processes on one directory would
 * share a peer id and append to the same logs, each compaction deleting what the
 * other wrote: the second one must not start.
 *
 * Node.js has no flock(), whose lock the kernel drops with the process, so the
 * lock is a file, `<dir>/lock`, naming its owner: pid, host and, on Linux, the
 * boot id and the process's start time (a pid alone may be reused). It is written
 * under a name of its own and then hard-linked into place, which fails when the
 * name exists: no reader ever sees half a lock. A process killed with SIGKILL
 * leaves the file behind; the next start sees that its owner no longer runs on
 * this host and takes the lock over at once, so a supervisor may restart at once.
 * A lock written on another host (a shared filesystem) cannot be checked and is
 * never taken over: the operator removes it once that host is gone.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, SharedMemError } from '../errors.js'

export const LOCK_FILE = 'lock'

/** Who holds a lock: enough to tell, on the same host, whether that process still runs. */
export interface LockOwner {
  pid: number
  host: string
  /** Linux: /proc/sys/kernel/random/boot_id, so that a lock from before a reboot is known as stale. */
  boot?: string
  /** Linux: the process's start time (clock ticks since boot), so that a reused pid is not taken for the owner. */
  started?: string
  /** Tells this lock from any other, so that a process removes only its own. */
  nonce: string
}

/** Directories this process holds (by real path): only the table knows whether a lock naming this pid is ours. */
const held = new Set<string>()

/** A held lock; {@link release} is idempotent. */
export class DataDirLock {
  readonly file: string
  private readonly key: string
  private readonly nonce: string
  private released = false

  constructor(file: string, key: string, nonce: string) {
    this.file = file
    this.key = key
    this.nonce = nonce
  }

  /** Removes the lock file, if it is still this lock's. */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    held.delete(this.key)
    const text = await readText(this.file)
    if (text !== undefined && parseOwner(text)?.nonce === this.nonce) await rm(this.file, { force: true })
  }
}

/**
 * Takes the lock on `dir` (creating the directory if needed), taking over one its
 * owner left behind; throws `ERR_DATA_DIR_LOCKED` when a live process holds it.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true })
  const key = await realpath(dir)
  const file = join(dir, LOCK_FILE)
  const me = await ownerOf(process.pid)
  const body = JSON.stringify(me)
  // Each pass either takes the lock, throws, or clears a stale lock (or sees one cleared): a few are plenty.
  for (let attempt = 0; attempt < 4; attempt++) {
    if (!held.has(key) && (await create(file, body))) {
      held.add(key)
      return new DataDirLock(file, key, me.nonce)
    }
    const text = await readText(file)
    if (text === undefined) continue // released meanwhile
    const owner = parseOwner(text)
    // A lock file that does not parse was not written by this code in full: nothing holds it.
    if (owner !== undefined && !(await isStale(owner, key))) throw lockedError(dir, file, owner)
    await clearStale(file, text)
  }
  throw new SharedMemError(ErrorCode.DATA_DIR_LOCKED, `data directory ${dir} is being locked by another process`)
}

function lockedError(dir: string, file: string, owner: LockOwner): SharedMemError {
  const where =
    owner.host === hostname()
      ? `process ${owner.pid} on this host`
      : `process ${owner.pid} on host ${owner.host} (if that host is gone, delete ${file})`
  return new SharedMemError(ErrorCode.DATA_DIR_LOCKED, `data directory ${dir} is in use by ${where}`)
}

/** Creates the lock file with `body`, atomically; false if it exists. */
async function create(file: string, body: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temp, body)
  try {
    await link(temp, file)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    // A filesystem without hard links (FAT, some network mounts): exclusive create, then write.
    // A reader may then see the file empty for an instant, and take it for one left behind.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err
    try {
      await writeFile(file, body, { flag: 'wx' })
      return true
    } catch (err2) {
      if ((err2 as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw err2
    }
  } finally {
    await rm(temp, { force: true })
  }
}

/**
 * Removes a lock judged stale, unless another process replaced it meanwhile: it is first
 * renamed aside (of several processes doing this, one succeeds), and put back if it is not the one judged.
 */
async function clearStale(file: string, judged: string): Promise<void> {
  const aside = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.stale`
  try {
    await rename(file, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if ((await readText(aside)) !== judged) await link(aside, file).catch(() => {})
  await rm(aside, { force: true })
}

async function isStale(owner: LockOwner, key: string): Promise<boolean> {
  if (owner.host !== hostname()) return false
  const boot = await bootId()
  if (owner.boot !== undefined && boot !== undefined && owner.boot !== boot) return true
  // Our own pid: a process before this one had it (a container's pid 1, restarted), unless we hold the lock.
  if (owner.pid === process.pid) return !held.has(key)
  if (!isRunning(owner.pid)) return true
  const now = await processStart(owner.pid)
  if (now === 'exited') return true
  return owner.started !== undefined && now !== undefined && owner.started !== now
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function ownerOf(pid: number): Promise<LockOwner> {
  const started = await processStart(pid)
  return {
    pid,
    host: hostname(),
    boot: await bootId(),
    started: started === 'exited' ? undefined : started,
    nonce: randomBytes(8).toString('hex')
  }
}

async function bootId(): Promise<string | undefined> {
  return (await readProc('/proc/sys/kernel/random/boot_id'))?.trim()
}

/**
 * Linux: when process `pid` started (clock ticks since boot), or 'exited' for a zombie (it has
 * exited and waits for its parent to read its status); undefined where /proc cannot tell.
 */
async function processStart(pid: number): Promise<string | 'exited' | undefined> {
  const stat = await readProc(`/proc/${pid}/stat`)
  if (stat === undefined) return undefined
  // The fields after the command name (which may hold spaces and parentheses): the 3rd (state) on, so starttime, the 22nd, is [19].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return fields[0] === 'Z' || fields[0] === 'X' ? 'exited' : fields[19]
}

/** A /proc file, or undefined off Linux or when the process is gone. */
async function readProc(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return undefined
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>
    if (!Number.isSafeInteger(o.pid) || typeof o.host !== 'string' || typeof o.nonce !== 'string') return undefined
    return o as LockOwner
  } catch {
    return undefined
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
