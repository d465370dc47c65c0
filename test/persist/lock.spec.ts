/**
 * The data directory's lock, in this process: a second peer on a directory is refused
 * with ERR_DATA_DIR_LOCKED while the first keeps working; stop() releases it; a lock
 * whose owner is gone (a dead pid, a reboot, this very pid in an earlier process) is
 * taken over at once, and one from another host never is.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createPeer, ErrorCode } from '../../src/index.js'
import { LOCK_FILE, lockDataDir } from '../../src/persist/lock.js'
import { startPeer, stopAll } from '../fixtures/peers.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sharedmem-lock-'))
})
afterEach(stopAll)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})
let n = 0
const freshDir = () => join(root, `d${n++}`)

/** The pid of a process that has run and exited (and been reaped). */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', ''])
  return run.pid as number
}

async function writeLock(dir: string, owner: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, LOCK_FILE), JSON.stringify({ nonce: 'left-behind', ...owner }))
}

describe('two peers on one data directory', () => {
  it('refuses the second with ERR_DATA_DIR_LOCKED, keeps the first working, and frees the directory on stop', async () => {
    const dataDir = freshDir()
    const first = await startPeer({ dataDir, fsyncInterval: 0 })
    await first.save({ collection: 'c', key: 'before', variable: 1 })
    const second = createPeer({ dataDir })
    await expect(second).rejects.toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED })
    await expect(second).rejects.toThrow(String(process.pid))
    await first.save({ collection: 'c', key: 'after', variable: 2 })
    expect(first.getSync({ collection: 'c', key: 'before' })).toBe(1)
    await first.stop()
    expect(await readdir(dataDir)).not.toContain(LOCK_FILE)

    const again = await startPeer({ dataDir })
    expect(again.peerId).toBe(first.peerId)
    expect(again.getArraySync({ collection: 'c' })).toEqual({ before: 1, after: 2 })
  })

  it('refuses a second lock taken at the same moment', async () => {
    const dir = freshDir()
    const results = await Promise.allSettled([lockDataDir(dir), lockDataDir(dir), lockDataDir(dir)])
    const held = results.filter((r) => r.status === 'fulfilled')
    expect(held).toHaveLength(1)
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED })
    }
    await (held[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockDataDir>>>).value.release()
    await (await lockDataDir(dir)).release()
  })
})

describe('a lock left behind', () => {
  it('is taken over when its process no longer runs', async () => {
    const dataDir = freshDir()
    const pid = deadPid()
    await writeLock(dataDir, { pid, host: hostname() })
    const peer = await startPeer({ dataDir })
    const lock = JSON.parse(await readFile(join(dataDir, LOCK_FILE), 'utf8')) as { pid: number }
    expect(lock.pid).toBe(process.pid)
    await peer.stop()
    expect(await readdir(dataDir)).toEqual(expect.not.arrayContaining([LOCK_FILE, expect.stringMatching(/\.stale$/)]))
  })

  it('is taken over when it names this process but an earlier one wrote it (a restarted container)', async () => {
    const dir = freshDir()
    await writeLock(dir, { pid: process.pid, host: hostname(), started: 'an earlier process' })
    await (await lockDataDir(dir)).release()
  })

  it('is taken over when it was written before this host booted', async () => {
    const dir = freshDir()
    // pid 1 runs on every Linux host: only the boot id tells that the lock is older.
    await writeLock(dir, { pid: 1, host: hostname(), boot: 'another-boot' })
    const bootKnown = await readFile('/proc/sys/kernel/random/boot_id').then(
      () => true,
      () => false
    )
    if (bootKnown) await (await lockDataDir(dir)).release()
    else await expect(lockDataDir(dir)).rejects.toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED })
  })

  it('is not taken over while its process runs', async () => {
    const dir = freshDir()
    // The parent process of this test worker runs as long as the test does.
    await writeLock(dir, { pid: process.ppid, host: hostname() })
    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED })
    await expect(lockDataDir(dir)).rejects.toThrow(`process ${process.ppid} on this host`)
  })

  it('is never taken over when another host wrote it: the message says which file to delete', async () => {
    const dir = freshDir()
    await writeLock(dir, { pid: deadPid(), host: 'another-host.example' })
    const refused = lockDataDir(dir)
    await expect(refused).rejects.toMatchObject({ code: ErrorCode.DATA_DIR_LOCKED })
    await expect(refused).rejects.toThrow(join(dir, LOCK_FILE))
  })

  it('is taken over when it is not a lock this code wrote (unreadable)', async () => {
    const dir = freshDir()
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, LOCK_FILE), '')
    await (await lockDataDir(dir)).release()
  })
})

describe('durableWrites', () => {
  it('is refused without a dataDir, with ERR_INVALID_ARGUMENT', async () => {
    await expect(createPeer({ durableWrites: true })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT })
  })
})
