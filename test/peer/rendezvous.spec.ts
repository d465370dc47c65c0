import { chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/index.js'
import { RENDEZVOUS_ENV, Rendezvous, resolveRendezvous } from '../../src/peer/rendezvous.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { runNode } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sharedmem-rendezvous-'))
})
afterEach(async () => {
  await stopAll()
  await rm(dir, { recursive: true, force: true })
})

/** The entry files of every swarm under the rendezvous directory. */
async function entries(): Promise<string[]> {
  const files: string[] = []
  for (const swarm of await readdir(dir)) files.push(...(await readdir(join(dir, swarm))))
  return files.sort()
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const run = await runNode(['-e', 'console.log(process.pid)'])
  return Number(run.stdout.trim())
}

describe('resolveRendezvous', () => {
  it('takes the option, then SHAREDMEM_RENDEZVOUS, then a directory of this user under the temp dir', () => {
    expect(resolveRendezvous('/x', { [RENDEZVOUS_ENV]: '/y' })).toEqual({ dir: '/x', checkDirOwner: false })
    expect(resolveRendezvous(undefined, { [RENDEZVOUS_ENV]: '/y' })).toEqual({ dir: '/y', checkDirOwner: false })
    expect(resolveRendezvous(false, { [RENDEZVOUS_ENV]: '/y' })).toBeUndefined()
    for (const off of ['off', 'OFF', 'false', '0', 'no']) {
      expect(resolveRendezvous(undefined, { [RENDEZVOUS_ENV]: off })).toBeUndefined()
      expect(resolveRendezvous(off, {})).toBeUndefined()
    }
    const fallback = resolveRendezvous(undefined, {})
    expect(fallback?.checkDirOwner).toBe(true)
    expect(fallback?.dir.startsWith(join(tmpdir(), 'sharedmem-'))).toBe(true)
  })
})

describe('same-host discovery', () => {
  it('joins peers started with no bootstrap address into one swarm, and they replicate', async () => {
    const peers = await Promise.all([1, 2, 3].map(() => startPeer({ rendezvous: dir, rendezvousInterval: 200 })))
    await waitFor(() => peers.every((p) => p.status().peers.length === 2), 'a full mesh through the rendezvous')
    expect(peers[0]?.status().rendezvous?.startsWith(dir)).toBe(true)
    await peers[2]?.save({ collection: 'c', key: 'k', variable: 'v' })
    await waitFor(() => peers.every((p) => p.getSync({ collection: 'c', key: 'k' }) === 'v'), 'the write everywhere')
    expect(await entries()).toEqual(peers.map((p) => `${p.peerId}.json`).sort())
    await stopAll()
    expect(await entries()).toEqual([])
  })

  it('keeps swarms apart, and deletes the entries of processes that are gone', async () => {
    const a = await startPeer({ rendezvous: dir, rendezvousInterval: 200, swarm: 'a' })
    const swarmDir = a.status().rendezvous as string
    const ghost = join(swarmDir, '12D3KooWGhostGhostGhostGhostGhostGhostGhostGhostGhost.json')
    const addrs = ['/ip4/127.0.0.1/tcp/9/p2p/12D3KooWGhostGhostGhostGhostGhostGhostGhostGhostGhost']
    await writeFile(ghost, JSON.stringify({ peerId: 'ghost', addrs, pid: await deadPid(), startedAt: 0 }))
    await writeFile(join(swarmDir, 'garbage.json'), '{ not json')
    const b = await startPeer({ rendezvous: dir, rendezvousInterval: 200, swarm: 'b' })
    const a2 = await startPeer({ rendezvous: dir, rendezvousInterval: 200, swarm: 'a' })
    await waitFor(() => a.status().peers.length === 1 && a2.status().peers.length === 1, 'the two peers of swarm a')
    await waitFor(async () => !(await entries()).some((f) => f.includes('Ghost')), 'the dead entry to be deleted')
    expect(a.status().peers).toEqual([a2.peerId])
    expect(b.status().peers).toEqual([])
    expect(b.status().connections).toBe(0)
  })

  it('is off with rendezvous: false, and writes nothing', async () => {
    const peer = await startPeer({ rendezvous: false })
    expect(peer.status().rendezvous).toBeNull()
    expect(await readdir(dir)).toEqual([])
  })

  it('refuses a directory that belongs to another user, with ERR_RENDEZVOUS', async () => {
    const theirs = join(dir, 'theirs')
    await mkdir(theirs)
    // As root, hand the directory to nobody; as anyone else, '/' is already someone else's.
    const base = process.getuid?.() === 0 ? theirs : '/'
    if (base === theirs) await chown(theirs, 65534, 65534)
    const rendezvous = new Rendezvous({
      dir: base,
      checkDirOwner: true,
      swarm: 's',
      peerId: 'p',
      addresses: () => [],
      interval: 1000,
      onFound: () => {}
    })
    await expect(rendezvous.start()).rejects.toMatchObject({ code: ErrorCode.RENDEZVOUS })
    await rendezvous.stop()
  })
})

describe('the default rendezvous directory', () => {
  it('is a convenience: a peer whose temp dir cannot hold it starts anyway, with discovery off', async () => {
    const saved = { tmp: process.env.TMPDIR, rendezvous: process.env[RENDEZVOUS_ENV] }
    // Under a regular file, no directory can be made (for root too).
    const file = join(dir, 'a-file')
    await writeFile(file, '')
    process.env.TMPDIR = join(file, 'tmp')
    delete process.env[RENDEZVOUS_ENV]
    try {
      const peer = await startPeer()
      expect(peer.status().rendezvous).toBeNull()
      expect(await peer.save({ collection: 'c', key: 'k', variable: 1 })).toBe(true)
    } finally {
      process.env.TMPDIR = saved.tmp
      if (saved.tmp === undefined) delete process.env.TMPDIR
      process.env[RENDEZVOUS_ENV] = saved.rendezvous
    }
  })

  it('must work when chosen: an unusable one fails the start with ERR_RENDEZVOUS', async () => {
    const file = join(dir, 'a-file')
    await writeFile(file, '')
    await expect(startPeer({ rendezvous: join(file, 'dir') })).rejects.toMatchObject({ code: ErrorCode.RENDEZVOUS })
  })
})
