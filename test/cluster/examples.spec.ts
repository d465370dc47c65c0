import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { closedPort as freePort } from '../fixtures/ports.js'
import { isAlive, killAll, runNode, spawnJsonLines } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const EXAMPLES = fileURLToPath(new URL('../../docs/examples/', import.meta.url))
const PM2_RUNTIME = fileURLToPath(new URL('../../node_modules/pm2/bin/pm2-runtime', import.meta.url))
const WORKERS = 4

const dirs: string[] = []
const pids = new Set<number>()
afterAll(async () => {
  await killAll()
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

async function tempDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `sharedmem-${name}-`))
  dirs.push(dir)
  return dir
}

/** One request on a connection of its own, so the cluster hands each to the next worker. */
function call(method: string, url: string, body?: unknown): Promise<{ pid: number } & Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers = payload === undefined ? {} : { 'content-type': 'application/json' }
    const req = request(url, { method, agent: false, headers, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve(JSON.parse(text)))
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** Asks until every one of the workers has answered and `check` holds for each one's latest answer. */
async function untilEveryWorker(
  ask: () => ReturnType<typeof call>,
  check: (answer: Record<string, unknown>) => boolean,
  what: string
): Promise<Set<number>> {
  const latest = new Map<number, Record<string, unknown>>()
  await waitFor(
    async () => {
      for (let i = 0; i < WORKERS; i++) {
        // Refused while the workers are still starting: ask again on the next round.
        const answer = await ask().catch(() => undefined)
        if (answer !== undefined) latest.set(answer.pid, answer)
      }
      return latest.size === WORKERS && [...latest.values()].every(check)
    },
    what,
    { timeout: 30_000, interval: 100 }
  )
  return new Set(latest.keys())
}

/** What every example is for: the processes of one app share flags and counters. */
async function exerciseApp(base: string): Promise<Set<number>> {
  const workers = await untilEveryWorker(
    () => call('GET', `${base}/peers`),
    (a) => a.peers === WORKERS - 1,
    'a mesh'
  )
  for (const pid of workers) pids.add(pid)
  expect((await call('PUT', `${base}/flags/beta`, { on: true })).saved).toBe(true)
  await untilEveryWorker(
    () => call('GET', `${base}/flags/beta`),
    (a) => JSON.stringify(a.value) === '{"on":true}',
    'the flag on every worker'
  )
  for (let i = 0; i < 8; i++) await call('POST', `${base}/hits`)
  await untilEveryWorker(
    () => call('GET', `${base}/hits`),
    (a) => a.hits === 8,
    'all 8 hits on every worker'
  )
  return workers
}

/**
 * Starts an example (`node …argv`) with PORT and SHAREDMEM_RENDEZVOUS of its own, exercises its app,
 * stops it with `signal` by PID, and checks that it and every worker exited and left no entry behind.
 */
async function runExample(name: string, argv: string[], signal: NodeJS.Signals, env: NodeJS.ProcessEnv = {}) {
  const port = await freePort()
  const rendezvous = await tempDir(`example-${name}`)
  const launcher = spawnJsonLines(argv, {
    ...process.env,
    ...env,
    PORT: String(port),
    SHAREDMEM_RENDEZVOUS: rendezvous
  })
  pids.add(launcher.pid)
  const workers = await exerciseApp(`http://127.0.0.1:${port}`)
  process.kill(launcher.pid, signal)
  const running = Promise.resolve('running')
  await waitFor(async () => (await Promise.race([launcher.exited, running])) !== 'running', `${name} to exit`)
  expect(await launcher.exited).toBe(0)
  for (const pid of workers) expect(isAlive(pid)).toBe(false)
  for (const swarm of await readdir(rendezvous)) expect(await readdir(join(rendezvous, swarm))).toEqual([])
}

describe('docs/cluster.md examples, run as documented', () => {
  it('node:cluster with 4 workers (docs/examples/cluster.mjs)', async () => {
    await runExample('cluster', [join(EXAMPLES, 'cluster.mjs')], 'SIGTERM')
  })

  it('node:cluster: workers that fail before they ever served are not replaced, and the primary exits 1', async () => {
    // The app's port held by another process (as `npm start` may hold one): every worker fails at listen.
    const held: Server = createServer()
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = held.address() as { port: number }
      const rendezvous = await tempDir('example-held')
      // runNode SIGKILLs the primary (by PID) after 30 s: a primary that re-forks forever fails here.
      const run = await runNode([join(EXAMPLES, 'cluster.mjs')], {
        timeout: 30_000,
        env: { ...process.env, PORT: String(port), SHAREDMEM_RENDEZVOUS: rendezvous }
      })
      expect(run.signal).toBeNull()
      expect(run.code).toBe(1)
      expect(run.stdout).not.toContain('starting another')
      expect(run.stderr.match(/before it served; not starting another/g)).toHaveLength(WORKERS)
      // One line per worker that failed, no stack trace.
      expect(run.stderr.match(/cannot start: .*EADDRINUSE/g)).toHaveLength(WORKERS)
      expect(run.stderr).not.toMatch(/^\s+at /m)
    } finally {
      await new Promise((resolve) => held.close(resolve))
    }
  })

  it('pm2 cluster mode, -i 4 (docs/examples/pm2/ecosystem.config.cjs)', async () => {
    // pm2-runtime: pm2 in the foreground, no daemon left behind; it stops its apps on SIGINT.
    const argv = [PM2_RUNTIME, 'start', join(EXAMPLES, 'pm2/ecosystem.config.cjs')]
    await runExample('pm2', argv, 'SIGINT', { PM2_HOME: await tempDir('pm2') })
  })
})
