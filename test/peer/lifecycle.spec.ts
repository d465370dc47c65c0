import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createPeer, ErrorCode, type SyncProgressEvent } from '../../src/index.js'
import { DIGEST_EPOCH } from '../../src/store/digest.js'
import { runNode } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

const stopped = expect.objectContaining({ code: ErrorCode.STOPPED })
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

describe('peer lifecycle', () => {
  it('rejects every call after stop() with ERR_STOPPED, and stop() is idempotent', async () => {
    const peer = await createPeer()
    await peer.save({ collection: 'c', key: 'k', variable: 1 })
    await Promise.all([peer.stop(), peer.stop()])
    await peer.stop()
    await expect(peer.save({ collection: 'c', key: 'k', variable: 2 })).rejects.toEqual(stopped)
    await expect(peer.get({ collection: 'c', key: 'k' })).rejects.toEqual(stopped)
    await expect(peer.increment({ counter: 'n' })).rejects.toEqual(stopped)
    expect(() => peer.getSync({ collection: 'c', key: 'k' })).toThrowError(stopped)
  })

  it('supports await using', async () => {
    let escaped: Awaited<ReturnType<typeof createPeer>> | undefined
    {
      await using peer = await createPeer()
      escaped = peer
      await peer.increment({ counter: 'n' })
    }
    await expect(escaped.getCounter({ counter: 'n' })).rejects.toEqual(stopped)
  })

  it('fails to start with a typed error on a bad address, leaving nothing behind', async () => {
    await expect(createPeer({ listen: ['not an address'] })).rejects.toEqual(
      expect.objectContaining({ code: ErrorCode.INVALID_ADDRESS })
    )
    await expect(createPeer({ bootstrap: ['host:99999'] })).rejects.toEqual(
      expect.objectContaining({ code: ErrorCode.INVALID_ADDRESS })
    )
  })

  it('leaves no handle open: a process that stops its peers exits on its own', async () => {
    const script = `
      const { createPeer } = await import(${JSON.stringify(DIST)})
      const a = await createPeer()
      const b = await createPeer({ bootstrap: [a.addresses[0]] })
      for (let i = 0; i < 200 && b.status().peers.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
      await a.save({ collection: 'c', key: 'k', variable: 1 })
      for (let i = 0; i < 200 && b.getSync({ collection: 'c', key: 'k' }) === null; i++) await new Promise((r) => setTimeout(r, 25))
      await a.stop()
      await b.stop()
      console.log('stopped', b.status().peers.length)
    `
    const { code, signal, stdout, stderr } = await runNode(['--input-type=module', '-e', script], { timeout: 15_000 })
    expect(signal, stderr).toBeNull()
    expect(code, stderr).toBe(0)
    expect(stdout).toContain('stopped 0')
  })
})

describe('stop during sync', () => {
  // A bound against a hang, not a timing: under the full suite's load (multi-process tests and the bench's
  // plumbing beside it) one catch-up took over 30 s to reach the joiner.
  it('settles promptly while a catch-up is running or has just ended, whichever side opened it', {
    timeout: 300_000
  }, async () => {
    const full = await createPeer()
    try {
      for (let i = 0; i < 20_000; i++) full.save({ collection: 'c', key: `k${i}`, variable: `v${i}` })
      await full.save({ collection: 'c', key: 'last', variable: 0 })
      const target = full.status().digest
      // Each joiner is stopped at a different point: mid-round, or as soon as it holds everything.
      for (const stopAt of ['progress', 'synced', 'progress', 'synced'] as const) {
        const joiner = await createPeer({ bootstrap: [full.addresses[0]] })
        const reached = new Promise<SyncProgressEvent>((resolve) => {
          const onProgress = (event: SyncProgressEvent): void => {
            if (stopAt === 'synced' && joiner.status().digest !== target) return
            joiner.off('sync:progress', onProgress)
            resolve(event)
          }
          joiner.on('sync:progress', onProgress)
        })
        const progress = await withDeadline(reached, 60_000, `the joiner's catch-up to reach '${stopAt}'`)
        // The catch-up did run: the joiner is stopped while it receives, or once it holds everything.
        expect(progress.received).toBeGreaterThan(0)
        if (stopAt === 'synced') expect(joiner.getSync({ collection: 'c', key: 'last' })).toBe(0)
        // Liveness, not speed: a round that ignored the abort used to keep stop() waiting forever.
        const started = Date.now()
        await joiner.stop()
        expect(Date.now() - started).toBeLessThan(10_000)
        await expect(joiner.get({ collection: 'c', key: 'last' })).rejects.toMatchObject({ code: ErrorCode.STOPPED })
      }
      expect(await full.get({ collection: 'c', key: 'last' })).toBe(0)
    } finally {
      await full.stop()
    }
  })
})

/** `promise`, or a failure naming `what` if it has not settled within `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

describe('tombstone collection', () => {
  it('runs in the background and drops removed entries past the TTL', async () => {
    let now = Date.now()
    const peer = await createPeer({ now: () => now, tombstoneTtl: 1000, maxClockSkew: 500, collectInterval: 20 })
    try {
      await peer.save({ collection: 'c', key: 'gone', variable: 1 })
      await peer.remove({ collection: 'c', key: 'gone' })
      await peer.save({ collection: 'c', key: 'kept', variable: 2 })
      expect(peer.status()).toMatchObject({ entries: 1, dead: 1 })
      // Past the TTL and the digest's next line (DIGEST_EPOCH), which collection waits for.
      now += 5000 + DIGEST_EPOCH
      await waitFor(() => peer.status().dead === 0, 'the tombstone to be collected', { timeout: 5000, interval: 10 })
      expect(peer.status()).toMatchObject({ entries: 1, dead: 0 })
      expect(peer.getSync({ collection: 'c', key: 'kept' })).toBe(2)
    } finally {
      await peer.stop()
    }
  })
})
