import { afterAll, describe, expect, it } from 'vitest'
import { killAll, type PeerProcess, startPeerProcess } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

afterAll(killAll)

/** A canonical dump of what a process holds in the given collections and counters. */
async function dump(p: PeerProcess, collections: string[], counters: string[]): Promise<string> {
  const parts: unknown[] = []
  for (const collection of collections) parts.push(Object.entries(await p.client.getArray({ collection })).sort())
  for (const counter of counters) parts.push(await p.client.getCounter({ counter }))
  return JSON.stringify(parts)
}

describe('three sharedmem peer processes on 127.0.0.1', () => {
  let peers: PeerProcess[]

  it('start and find each other through one bootstrap address', async () => {
    const first = await startPeerProcess()
    const rest = await Promise.all([
      startPeerProcess(['--bootstrap', first.address]),
      startPeerProcess(['--bootstrap', first.address.replace(/\/p2p\/.*$/, '')])
    ])
    peers = [first, ...rest]
    await waitFor(async () => {
      const statuses = await Promise.all(peers.map((p) => p.client.status()))
      return statuses.every((s) => s.peers.length === 2)
    }, 'a full mesh')
    await waitFor(() => /^join /m.test(first.output()), 'a join to be logged')
  })

  it('replicate writes from each peer to all', async () => {
    await Promise.all(peers.map((p, i) => p.client.save({ collection: 'c', key: `k${i}`, variable: { from: i } })))
    const expected = JSON.stringify([
      [
        ['k0', { from: 0 }],
        ['k1', { from: 1 }],
        ['k2', { from: 2 }]
      ]
    ])
    await waitFor(
      async () => (await Promise.all(peers.map((p) => dump(p, ['c'], [])))).every((d) => d === expected),
      'replication'
    )
  })

  it('end identical after concurrent writes to one key and concurrent increments', async () => {
    await Promise.all(
      peers.flatMap((p, i) => [
        ...Array.from({ length: 20 }, (_, round) =>
          p.client.save({ collection: 'hot', key: 'k', variable: `${i}-${round}` })
        ),
        ...Array.from({ length: 50 }, () => p.client.increment({ counter: 'n' }))
      ])
    )
    await waitFor(async () => {
      const dumps = await Promise.all(peers.map((p) => dump(p, ['c', 'hot'], ['n'])))
      return dumps.every((d) => d === dumps[0]) && (await peers[0].client.getCounter({ counter: 'n' })) === 150
    }, 'identical replicas')
  })

  it('stop cleanly on SIGTERM and SIGINT, exiting 0 on their own', async () => {
    expect(await peers[0].stop()).toBe(0)
    expect(peers[0].output()).toMatch(/^stopped$/m)
    peers[1].child.kill('SIGINT')
    expect(await peers[1].stop()).toBe(0)
    expect(await peers[2].stop()).toBe(0)
  })
})
