/**
 * A partition made by the chaos run's own network module (net.mjs, `local` mode) cuts every
 * connection between its two groups, in both directions, whoever dialled it: a save on either side
 * stays invisible on the other for ten sync intervals, and crosses once the partition heals.
 * Needs root and iptables (as CI has); elsewhere the chaos run reports partitions unavailable.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { waitFor } from '../fixtures/wait.js'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { freePorts } from './chaos.mjs'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { Cluster } from './cluster.mjs'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { canUseNetfilter, LocalNet } from './net.mjs'

const PEERS = 3
const SYNC_INTERVAL = 500
const root = process.getuid?.() === 0 && canUseNetfilter()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let cleanup = async () => {}
afterAll(() => cleanup())

async function call(url: string, verb: string, body?: object): Promise<unknown> {
  const response = await fetch(`${url}/${verb}`, {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5_000)
  })
  return ((await response.json()) as { result: unknown }).result
}

describe('a local partition', () => {
  it.skipIf(!root)('lets no message cross between its groups, and everything cross after the heal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sharedmem-partition-'))
    const net = new LocalNet(PEERS)
    const ports = await freePorts(2 * PEERS)
    const cluster = new Cluster({
      count: PEERS,
      dir,
      net,
      p2pPorts: ports.slice(0, PEERS),
      httpPorts: ports.slice(PEERS),
      syncInterval: SYNC_INTERVAL,
      maxClockSkew: 5_000,
      tombstoneTtl: 86_400_000,
      collectInterval: 60_000,
      configs: Array(PEERS).fill('memory'),
      onCrash: (i: number, why: string) => {
        throw new Error(`peer ${i} crashed: ${why}`)
      }
    })
    cleanup = async () => {
      await cluster.stopAll()
      net.teardown()
      await rm(dir, { recursive: true, force: true })
    }
    net.setup(ports.slice(0, PEERS))
    for (let i = 0; i < PEERS; i++) await cluster.start(i)
    const urls: string[] = cluster.peers.map((p: { i: number }) => cluster.url(p.i))
    const peersOf = async (url: string) => ((await call(url, 'status')) as { peers: string[] }).peers.length
    await waitFor(async () => (await Promise.all(urls.map(peersOf))).every((c) => c === PEERS - 1), 'a full mesh', {
      timeout: 30_000,
      interval: 250
    })

    // Peer 2 dialled peer 1 (its bootstrap): rules on peer 2's listening port alone miss that connection.
    net.partition([2])
    await call(urls[2], 'save', { collection: 'p', key: 'from-2', variable: 2 })
    await call(urls[0], 'save', { collection: 'p', key: 'from-0', variable: 0 })
    const crossed: string[] = []
    for (let n = 0; n < 20; n++) {
      await sleep(SYNC_INTERVAL / 2)
      if ((await call(urls[0], 'get', { collection: 'p', key: 'from-2' })) !== null) crossed.push('2 → 0')
      if ((await call(urls[1], 'get', { collection: 'p', key: 'from-2' })) !== null) crossed.push('2 → 1')
      if ((await call(urls[2], 'get', { collection: 'p', key: 'from-0' })) !== null) crossed.push('0 → 2')
      if (crossed.length > 0) break
    }
    expect(crossed).toEqual([])
    expect(await call(urls[1], 'get', { collection: 'p', key: 'from-0' })).toBe(0)

    net.heal()
    const everywhere = async () =>
      (await Promise.all(urls.map((url) => call(url, 'getArray', { collection: 'p' })))).every(
        (c) => Object.keys(c as object).length === 2
      )
    await waitFor(everywhere, 'both saves on every peer after the partition heals', { timeout: 30_000, interval: 250 })
  })
})
