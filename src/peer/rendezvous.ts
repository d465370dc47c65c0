/**
 * Zero-configuration joining on one host: the peers of a swarm on the same
 * machine (node:cluster workers, pm2 instances, services) find each other
 * through a directory of live addresses, so `createPeer()` with no bootstrap
 * address joins them. Pure file system calls: it works the same on Linux,
 * macOS and Windows, and needs no multicast.
 *
 * Each peer writes `<dir>/<swarm>/<peer id>.json` (its pid and addresses) once
 * it listens, reads the others', dials the live ones, and scans again every
 * `interval`. An entry whose process is gone (a SIGKILLed worker) is deleted
 * by whoever finds it; a peer that stops deletes its own.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import type { PeerAddrs } from '../codec/index.js'
import { ErrorCode, SharedMemError } from '../errors.js'

/** The environment variable that sets the default rendezvous directory, or `off`. */
export const RENDEZVOUS_ENV = 'SHAREDMEM_RENDEZVOUS'

/**
 * Where the peers of this host meet: the `rendezvous` option, else `$SHAREDMEM_RENDEZVOUS`
 * (`off` turns it off), else a directory of this user's under the OS temp dir, which, being in a
 * place every user can write, must also be owned by this user.
 */
export function resolveRendezvous(
  option: string | false | undefined,
  env: NodeJS.ProcessEnv = process.env
): { dir: string; checkDirOwner: boolean } | undefined {
  const given = option ?? env[RENDEZVOUS_ENV]
  if (given === false || (typeof given === 'string' && /^(off|false|0|no)$/i.test(given))) return undefined
  if (given !== undefined && given !== '') return { dir: given, checkDirOwner: false }
  const user = process.getuid?.() ?? userInfo().username
  return { dir: join(tmpdir(), `sharedmem-${user}`), checkDirOwner: true }
}

interface Entry extends PeerAddrs {
  pid: number
  startedAt: number
}

export interface RendezvousInit {
  /** The host-wide directory; the swarm gets a subdirectory of it. */
  dir: string
  /** Also require `dir` itself to be this user's (true for the shared default under the temp dir). */
  checkDirOwner?: boolean
  swarm: string
  peerId: string
  addresses: () => string[]
  /** Time between scans, in ms. */
  interval: number
  /** Called with the live peers found (this one excluded). */
  onFound: (peers: PeerAddrs[]) => void
  /** Where this part logs. @default @libp2p/logger's `sharedmem:rendezvous` */
  log?: Logger
  /** Called after each scan with the number of live peers found (0 also when the scan failed). */
  onScan?: (found: number) => void
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export class Rendezvous {
  /** This swarm's directory. */
  readonly dir: string
  private readonly init: RendezvousInit
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  private scanning: Promise<void> | undefined
  private started = false

  constructor(init: RendezvousInit) {
    this.init = init
    this.log = init.log ?? logger('sharedmem:rendezvous')
    // Swarm names are free text: a hash makes a safe, fixed-length directory name.
    const swarmDir = createHash('sha256').update(init.swarm).digest('hex').slice(0, 16)
    this.dir = join(init.dir, swarmDir)
  }

  private get file(): string {
    return join(this.dir, `${this.init.peerId}.json`)
  }

  /** Writes this peer's entry, then scans at once and every interval. */
  async start(): Promise<void> {
    if (this.started) return
    const entry: Entry = {
      peerId: this.init.peerId,
      addrs: this.init.addresses(),
      pid: process.pid,
      startedAt: Date.now()
    }
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      if (this.init.checkDirOwner === true) await this.checkOwner(this.init.dir)
      await this.checkOwner(this.dir)
      // Written whole under a temporary name, then renamed: a reader never sees half an entry.
      const temporary = `${this.file}.${process.pid}.tmp`
      await writeFile(temporary, JSON.stringify(entry), { mode: 0o600 })
      await rename(temporary, this.file)
    } catch (err) {
      if (err instanceof SharedMemError) throw err
      const reason = (err as Error).message
      throw new SharedMemError(ErrorCode.RENDEZVOUS, `cannot use the rendezvous directory ${this.dir}: ${reason}`, {
        cause: err
      })
    }
    this.started = true
    this.scanSoon(0)
  }

  /** Stops scanning and deletes this peer's entry. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearTimeout(this.timer)
    await this.scanning
    await unlink(this.file).catch(() => {})
  }

  /** On POSIX, a directory another user owns could feed us addresses: refuse it. */
  private async checkOwner(dir: string): Promise<void> {
    const uid = process.getuid?.()
    if (uid === undefined) return
    const owner = (await stat(dir)).uid
    if (owner !== uid) {
      const hint = `set rendezvous (or ${RENDEZVOUS_ENV}) to a directory of your own, or off`
      throw new SharedMemError(
        ErrorCode.RENDEZVOUS,
        `${dir} belongs to uid ${owner}, not to this user (${uid}): ${hint}`
      )
    }
  }

  private scanSoon(delay: number): void {
    this.timer = setTimeout(() => {
      this.scanning = this.scan()
        .then((found) => this.init.onScan?.(found))
        .catch((err: unknown) => {
          this.log('scan of %s failed: %e', this.dir, err)
          this.init.onScan?.(0)
        })
        .finally(() => {
          this.scanning = undefined
          if (this.started) this.scanSoon(this.init.interval)
        })
    }, delay)
  }

  /** Reads every entry; deletes those of dead processes; hands on the live ones and counts them. */
  private async scan(): Promise<number> {
    const found: PeerAddrs[] = []
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json') || name === `${this.init.peerId}.json`) continue
      const path = join(this.dir, name)
      let entry: Entry
      try {
        entry = JSON.parse(await readFile(path, 'utf8')) as Entry
      } catch {
        continue // removed meanwhile, or not ours to read: skip it
      }
      if (typeof entry.pid !== 'number' || !Array.isArray(entry.addrs) || typeof entry.peerId !== 'string') continue
      if (!processAlive(entry.pid)) {
        this.log('removing the entry of %s: process %d is gone', entry.peerId, entry.pid)
        await unlink(path).catch(() => {})
        continue
      }
      found.push({ peerId: entry.peerId, addrs: entry.addrs.filter((a) => typeof a === 'string') })
    }
    if (this.started && found.length > 0) this.init.onFound(found)
    return found.length
  }
}
