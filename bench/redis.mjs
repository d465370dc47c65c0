// Real redis-server processes for side-by-side runs: found on PATH (or installed
// from Debian's packages when running as root), started on a free 127.0.0.1 port
// with persistence off, and stopped by PID.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Redis from 'ioredis'

function which(bin) {
  try {
    return execFileSync('which', [bin], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
}

export function findRedis() {
  let bin = which('redis-server')
  if (bin === undefined && process.getuid?.() === 0) {
    console.log('installing redis-server from Debian packages…')
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
    bin = which('redis-server')
  }
  if (bin === undefined)
    throw new Error('redis-server not found: install it (apt-get install redis-server) to compare with Redis')
  return bin
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })
}

/** Starts redis-server (optionally as a replica of `replicaOf`, a port); resolves once it answers PING. */
export async function startRedis({ replicaOf } = {}) {
  const port = await freePort()
  // No persistence; a diskless full sync starts at once (Redis 7 waits 5 s by default for more replicas).
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes'
  ]
  args.push('--repl-diskless-sync-delay', '0')
  // A directory of its own: a replica writes the RDB it receives to dump.rdb there, and a server
  // started where one lies would load it.
  const dir = mkdtempSync(join(tmpdir(), 'sharedmem-bench-redis-'))
  args.push('--dir', dir)
  if (replicaOf !== undefined) args.push('--replicaof', '127.0.0.1', String(replicaOf))
  const child = spawn(findRedis(), args, { stdio: 'ignore' })
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50
  })
  // Refused connections while the server starts are expected; real errors surface as failed commands.
  client.on('error', () => {})
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch (err) {
      if (Date.now() > deadline) throw err
      client.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    port,
    pid: child.pid,
    client,
    startedAt: performance.now(),
    async info(section) {
      const text = await client.info(section)
      return Object.fromEntries(
        text
          .split('\r\n')
          .filter((l) => l.includes(':'))
          .map((l) => l.split(':'))
      )
    },
    async stop() {
      client.disconnect()
      if (child.exitCode === null) process.kill(child.pid, 'SIGKILL')
      await new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)
      )
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Polls `check` every 10 ms until it resolves true; throws `failure` after `timeout` ms. */
async function until(check, timeout, failure) {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(failure)
}

/** Resolves once a replica reports a finished full sync with its primary. */
export function waitReplicaSynced(replica, timeout = 600_000) {
  return until(
    async () => {
      const info = await replica.info('replication')
      return info.master_link_status === 'up' && info.master_sync_in_progress === '0'
    },
    timeout,
    'the Redis replica did not finish its sync in time'
  )
}

/** Resolves once a replica has applied everything its primary has sent (both report the same offset). */
export function waitReplicaCaughtUp(primary, replica, timeout = 60_000) {
  return until(
    async () => {
      const [p, r] = await Promise.all([primary.info('replication'), replica.info('replication')])
      return p.master_repl_offset === r.slave_repl_offset
    },
    timeout,
    'the Redis replica did not catch up with its primary in time'
  )
}
