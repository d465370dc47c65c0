import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { isAlive, killAll, type LineProcess, spawnJsonLines } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const PRIMARY = fileURLToPath(new URL('../fixtures/cluster/primary.mjs', import.meta.url))
const WORKERS = 4

/** Every worker pid seen, so that none outlives the test even if the primary is killed. */
const workerPids = new Set<number>()
let dir: string | undefined

afterAll(async () => {
  await killAll()
  for (const pid of workerPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

interface Dump {
  digest: string
  peers: number
  addresses: string[]
  data: Record<string, unknown>
  n: number
}

describe('a node:cluster primary with 4 workers, each calling createPeer() with no options', () => {
  let primary: LineProcess
  let nextId = 0
  /** Sends a command to the worker in `slot` and resolves its reply. */
  const ask = async (slot: number, op: string, args: object = {}): Promise<unknown> => {
    const id = ++nextId
    primary.send({ id, slot, op, ...args })
    const reply = await primary.next((m) => m.type === 'reply' && m.id === id, `the reply to ${op} from worker ${slot}`)
    return reply.result
  }
  const dumps = (): Promise<Dump[]> =>
    Promise.all(Array.from({ length: WORKERS }, (_, slot) => ask(slot, 'dump') as Promise<Dump>))
  const ready = (slot: number, after = 0) =>
    primary.next((m) => m.type === 'ready' && m.slot === slot && primary.messages.indexOf(m) >= after, `worker ${slot}`)

  it('start, and the workers find each other with zero configuration', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sharedmem-cluster-'))
    primary = spawnJsonLines([PRIMARY], { ...process.env, SHAREDMEM_RENDEZVOUS: dir, WORKERS: String(WORKERS) })
    for (let slot = 0; slot < WORKERS; slot++) workerPids.add((await ready(slot)).pid as number)
    await waitFor(async () => (await dumps()).every((d) => d.peers === WORKERS - 1), 'a full mesh of workers')
    // Each worker listens on a port of its own, not on one port the cluster shares among them.
    const ports = new Set((await dumps()).map((d) => d.addresses[0]?.split('/')[4]))
    expect(ports.size).toBe(WORKERS)
  })

  it('replicate writes made on each worker to all of them', async () => {
    for (let slot = 0; slot < WORKERS; slot++) {
      await ask(slot, 'save', { key: `from-${slot}`, value: { slot } })
      await ask(slot, 'increment')
    }
    const expected = Object.fromEntries(Array.from({ length: WORKERS }, (_, slot) => [`from-${slot}`, { slot }]))
    let last: Dump[] = []
    await waitFor(async () => {
      last = await dumps()
      return last.every((d) => JSON.stringify(d.data) === JSON.stringify(expected) && d.n === WORKERS)
    }, 'every write on every worker').catch((err: Error) => {
      // What each worker holds and what gossip and sync did, to tell which failed.
      throw new Error(`${err.message}; the workers: ${JSON.stringify(last)}`)
    })
  })

  it('replace a worker killed with SIGKILL; the new one catches up and the swarm stays one', async () => {
    const victim = primary.messages.find((m) => m.type === 'ready' && m.slot === 1)?.pid as number
    const mark = primary.messages.length
    primary.send({ op: 'kill', slot: 1 })
    await primary.next((m) => m.type === 'exit' && m.slot === 1 && m.signal === 'SIGKILL', 'the kill')
    expect(isAlive(victim)).toBe(false)
    // Written while the worker was gone: the new worker can only get it by catching up.
    await ask(0, 'save', { key: 'while-down', value: true })
    const reborn = await ready(1, mark)
    workerPids.add(reborn.pid as number)
    await waitFor(async () => {
      const all = await dumps()
      return all.every((d) => d.peers === WORKERS - 1 && d.digest === all[0]?.digest && d.n === WORKERS)
    }, 'the new worker to catch up and every replica to be identical')
    const replacement = (await dumps())[1] as Dump
    expect(replacement.data['while-down']).toBe(true)
    expect(replacement.data['from-3']).toEqual({ slot: 3 })
    // The killed worker's entry is deleted by the others' scans.
    await waitFor(async () => {
      const swarms = await readdir(dir as string)
      const files = (await Promise.all(swarms.map((s) => readdir(join(dir as string, s))))).flat()
      return files.length === WORKERS
    }, 'the dead entry to be deleted')
  })

  it('stop cleanly: every worker stops its peer and exits, then the primary', async () => {
    primary.send({ op: 'stop' })
    await primary.next((m) => m.type === 'stopped', 'the primary to report every worker stopped')
    expect(await primary.exited).toBe(0)
    const exits = primary.messages.filter((m) => m.type === 'exit' && m.signal === null)
    expect(exits.map((m) => m.code)).toEqual(Array(WORKERS).fill(0))
    for (const pid of workerPids) expect(isAlive(pid)).toBe(false)
    const swarms = await readdir(dir as string)
    const files = (await Promise.all(swarms.map((s) => readdir(join(dir as string, s))))).flat()
    expect(files).toEqual([])
  })
})
