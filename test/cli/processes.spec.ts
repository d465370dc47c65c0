import { afterEach, describe, expect, it } from 'vitest'
import { killAll, type PeerProcess, startPeerProcess } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

// A test that fails before its own clean-up leaves nothing running for the next one.
afterEach(killAll)

/** A canonical dump of what a process holds in the given collections and counters. */
async function dump(p: PeerProcess, collections: string[], counters: string[]): Promise<string> {
  const parts: unknown[] = []
  for (const collection of collections) parts.push(Object.entries(await p.client.getArray({ collection })).sort())
  for (const counter of counters) parts.push(await p.client.getCounter({ counter }))
  return JSON.stringify(parts)
}

/**
 * Starts `n` (2 or 3) processes, the others at once through the first one's address (the second
 * through its full address, the third through its address without the peer id), and waits for a
 * full mesh; `run` gets them. Each is stopped by its PID afterwards (SIGTERM, then SIGKILL),
 * whatever `run` did.
 */
async function withPeers(n: 2 | 3, run: (peers: PeerProcess[]) => Promise<void>): Promise<void> {
  const started: PeerProcess[] = []
  try {
    const first = await startPeerProcess()
    started.push(first)
    const bootstraps = [first.address, first.address.replace(/\/p2p\/.*$/, '')].slice(0, n - 1)
    await Promise.all(
      bootstraps.map(async (bootstrap) => {
        started.push(await startPeerProcess(['--bootstrap', bootstrap]))
      })
    )
    await waitFor(async () => {
      const statuses = await Promise.all(started.map((p) => p.client.status()))
      return statuses.every((s) => s.peers.length === n - 1)
    }, 'a full mesh')
    await run(started)
  } finally {
    await Promise.all(started.map((p) => p.stop()))
  }
}

describe('sharedmem peer processes on 127.0.0.1', () => {
  it('start and find each other through one bootstrap address', async () => {
    await withPeers(3, async ([first]) => {
      await waitFor(() => /^join /m.test(first.output()), 'a join to be logged')
    })
  })

  it('replicate writes from each peer to all', async () => {
    await withPeers(3, async (peers) => {
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
  })

  it('end identical after concurrent writes to one key and concurrent increments', async () => {
    await withPeers(3, async (peers) => {
      await Promise.all(
        peers.flatMap((p, i) => [
          ...Array.from({ length: 20 }, (_, round) =>
            p.client.save({ collection: 'hot', key: 'k', variable: `${i}-${round}` })
          ),
          ...Array.from({ length: 50 }, () => p.client.increment({ counter: 'n' }))
        ])
      )
      await waitFor(async () => {
        const dumps = await Promise.all(peers.map((p) => dump(p, ['hot'], ['n'])))
        return dumps.every((d) => d === dumps[0]) && (await peers[0].client.getCounter({ counter: 'n' })) === 150
      }, 'identical replicas')
    })
  })

  it('stop cleanly on SIGTERM and SIGINT, exiting 0 on their own', async () => {
    // Two connected peers: one is sent SIGTERM while the other runs, then the other SIGINT.
    await withPeers(2, async ([a, b]) => {
      expect(await a.stop()).toBe(0)
      expect(a.output()).toMatch(/^stopped$/m)
      process.kill(b.pid, 'SIGINT')
      expect(await b.stop()).toBe(0)
      expect(b.output()).toMatch(/^stopped$/m)
    })
  })
})
