/**
 * kill -9 in the middle of a stream of writes, several times at random points:
 * the peer restarts, loads without error, and holds every write acknowledged
 * more than one fsync interval (plus a margin for a busy machine) before the kill.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { killAll, startPeerProcess } from '../fixtures/processes.js'

const FSYNC_INTERVAL = 50
const MARGIN = 500

afterAll(killAll)

it('survives kill -9 at random points, losing at most the last fsync interval', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sharedmem-crash-'))
  const args = ['--data-dir', dataDir, '--fsync-interval', String(FSYNC_INTERVAL)]
  const acknowledged = new Map<string, number>()
  let next = 0
  try {
    for (let round = 0; round < 3; round++) {
      const peer = await startPeerProcess(args)
      expect(peer.output()).toMatch(/^loaded \d+ entries from /m)
      for (const key of acknowledged.keys()) {
        const held = await peer.client.get({ collection: 'crash', key })
        if (held === null) throw new Error(`round ${round}: ${key} was lost`)
      }
      let writing = true
      const writer = (async () => {
        while (writing) {
          const key = `k${next++}`
          try {
            await peer.client.save({ collection: 'crash', key, variable: { key, pad: 'x'.repeat(50) } })
          } catch {
            return // the process is gone
          }
          acknowledged.set(key, Date.now())
        }
      })()
      await new Promise((resolve) => setTimeout(resolve, 800 + Math.floor(Math.random() * 800)))
      const killedAt = Date.now()
      await peer.kill()
      writing = false
      await writer
      // Only writes old enough to have been fsynced must survive.
      for (const [key, at] of acknowledged) if (at > killedAt - FSYNC_INTERVAL - MARGIN) acknowledged.delete(key)
    }
    const last = await startPeerProcess(args)
    const held = await last.client.getArray({ collection: 'crash' })
    for (const key of acknowledged.keys()) expect(held[key], key).toEqual({ key, pad: 'x'.repeat(50) })
    expect(acknowledged.size).toBeGreaterThan(50)
    expect(await last.stop()).toBe(0)
  } finally {
    await killAll()
    await rm(dataDir, { recursive: true, force: true })
  }
})
