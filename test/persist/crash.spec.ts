/**
 * kill -9 in the middle of a stream of writes, several times at random points:
 * the peer restarts, loads without error, and holds every write acknowledged
 * more than one fsync interval (plus a margin for a busy machine) before the
 * kill; with --durable-writes, every acknowledged write, however recent.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { killAll, startPeerProcess } from '../fixtures/processes.js'

const FSYNC_INTERVAL = 50
const MARGIN = 500
const WRITERS = 4

afterAll(killAll)

/** Runs 3 rounds of writers killed at a random point; resolves what was acknowledged and what survived. */
async function crashRounds(extraArgs: string[], mustSurvive: (acknowledgedAt: number, killedAt: number) => boolean) {
  const dataDir = await mkdtemp(join(tmpdir(), 'sharedmem-crash-'))
  const args = ['--data-dir', dataDir, '--fsync-interval', String(FSYNC_INTERVAL), ...extraArgs]
  const acknowledged = new Map<string, number>()
  let increments = 0
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
      const writer = async (): Promise<void> => {
        while (writing) {
          const key = `k${next++}`
          try {
            await peer.client.save({ collection: 'crash', key, variable: { key, pad: 'x'.repeat(50) } })
            acknowledged.set(key, Date.now())
            await peer.client.increment({ counter: 'acks' })
            increments++
          } catch {
            return // the process is gone
          }
        }
      }
      const writers = Array.from({ length: WRITERS }, writer)
      await new Promise((resolve) => setTimeout(resolve, 800 + Math.floor(Math.random() * 800)))
      const killedAt = Date.now()
      await peer.kill()
      writing = false
      await Promise.all(writers)
      for (const [key, at] of acknowledged) if (!mustSurvive(at, killedAt)) acknowledged.delete(key)
    }
    const last = await startPeerProcess(args)
    const held = await last.client.getArray({ collection: 'crash' })
    const counter = await last.client.getCounter({ counter: 'acks' })
    expect(await last.stop()).toBe(0)
    return { acknowledged, held, counter, increments }
  } finally {
    await killAll()
    await rm(dataDir, { recursive: true, force: true })
  }
}

it('survives kill -9 at random points, losing at most the last fsync interval', async () => {
  const { acknowledged, held } = await crashRounds([], (at, killedAt) => at <= killedAt - FSYNC_INTERVAL - MARGIN)
  for (const key of acknowledged.keys()) expect(held[key], key).toEqual({ key, pad: 'x'.repeat(50) })
  expect(acknowledged.size).toBeGreaterThan(50)
})

it('with --durable-writes, loses no acknowledged write and no acknowledged increment to kill -9', async () => {
  const { acknowledged, held, counter, increments } = await crashRounds(['--durable-writes'], () => true)
  const lost = [...acknowledged.keys()].filter((key) => held[key] === undefined)
  expect(lost).toEqual([])
  // Each round's last increments may have been applied without their answer arriving: never fewer.
  expect(counter).toBeGreaterThanOrEqual(increments)
  expect(counter).toBeLessThanOrEqual(increments + 3 * WRITERS)
  expect(acknowledged.size).toBeGreaterThan(50)
})
