/**
 * The data directory through real processes. Its lock: a second `sharedmem peer` on a directory
 * exits non-zero with one line naming the directory and the pid that holds it (before it takes
 * a port: on the first one's own port it still says so); kill -9 of the holder does not block
 * an immediate restart; of several processes taking over a stale lock at once, one gets it.
 * `--durable-writes` alone is refused in one line. A bad entry in the directory is left out,
 * with one warning line.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { BIN, killAll, runNode, spawnJsonLines, startPeerProcess } from '../fixtures/processes.js'
import { appendLog, badExpiryRecord } from './craft.js'

const LOCK_MODULE = new URL('../../dist/persist/lock.js', import.meta.url).href

let dirs: string[] = []
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sharedmem-lock-process-'))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  await killAll()
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  dirs = []
})
afterAll(killAll)

it('refuses a second `sharedmem peer` on the directory with one line, and restarts at once after kill -9', async () => {
  const dataDir = await freshDir()
  const first = await startPeerProcess(['--data-dir', dataDir, '--durable-writes', '--fsync-interval', '10'])
  await first.client.save({ collection: 'c', key: 'k', variable: 'kept' })

  // On the first one's own p2p port: the lock, not the port, is what it reports.
  const port = /\/tcp\/(\d+)/.exec(first.address)?.[1] as string
  const second = await runNode([BIN, 'peer', '--listen', port, '--data-dir', dataDir])
  expect(second.code).toBe(1)
  expect(second.stdout).toBe('')
  const lines = second.stderr.trimEnd().split('\n')
  expect(lines).toEqual([
    `error: data directory ${dataDir} is in use by process ${first.pid} on this host (ERR_DATA_DIR_LOCKED)`
  ])
  expect(await first.client.get({ collection: 'c', key: 'k' })).toBe('kept')

  await first.kill()
  const restarted = await startPeerProcess(['--data-dir', dataDir])
  expect(restarted.peerId).toBe(first.peerId)
  expect(await restarted.client.get({ collection: 'c', key: 'k' })).toBe('kept')
  expect(await restarted.stop()).toBe(0)
})

it('refuses --durable-writes without --data-dir with one line', async () => {
  const run = await runNode([BIN, 'peer', '--listen', '0', '--durable-writes'])
  expect(run.code).toBe(1)
  expect(run.stdout).toBe('')
  expect(run.stderr.trimEnd().split('\n')).toEqual([
    'error: --durable-writes needs --data-dir: without one, no write can be made durable (ERR_INVALID_ARGUMENT)',
    'see `sharedmem peer --help`'
  ])
})

it('gives a lock left by a killed process to exactly one of several processes taking it over at once', async () => {
  const dir = await freshDir()
  // The lock of a process killed with SIGKILL.
  const victim = spawnJsonLines(['--input-type=module', '-e', holder(dir)])
  await victim.next((m) => m.held === true, 'the first lock')
  await victim.kill()

  const racers = Array.from({ length: 4 }, () => spawnJsonLines(['--input-type=module', '-e', holder(dir)]))
  const results = await Promise.all(racers.map((r) => r.next((m) => 'held' in m, 'an attempt')))
  expect(results.filter((m) => m.held === true)).toHaveLength(1)
  for (const m of results.filter((m) => m.held !== true)) expect(m.code).toBe('ERR_DATA_DIR_LOCKED')
})

it('starts from a directory holding a bad entry, and says so in one warning line', async () => {
  const dataDir = await freshDir()
  const first = await startPeerProcess(['--data-dir', dataDir])
  expect(await first.stop()).toBe(0)
  await appendLog(dataDir, badExpiryRecord(first.peerId, ['a', 'bad', 'b'], 'bad'))
  const again = await startPeerProcess(['--data-dir', dataDir])
  expect(await again.client.getArray({ collection: 'c' })).toEqual({ a: 'a', b: 'b' })
  const warnings = again
    .output()
    .split('\n')
    .filter((line) => line.startsWith('left out'))
  expect(warnings).toHaveLength(1)
  expect(warnings[0]).toMatch(/^left out 1 unreadable entries and 0 unreadable records of .+ \(first: .+\)/)
  expect((await again.client.status()).persistence).toMatchObject({ skipped: 1 })
  expect(await again.stop()).toBe(0)
})

/** A script that tries to lock `dir`, prints {held} (or the error's code), and keeps running until killed. */
function holder(dir: string): string {
  return `
    import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)}
    try {
      await lockDataDir(${JSON.stringify(dir)})
      console.log(JSON.stringify({ held: true }))
    } catch (err) {
      console.log(JSON.stringify({ held: false, code: err.code }))
    }
    setInterval(() => {}, 1 << 30)
  `
}
