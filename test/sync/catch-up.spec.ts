/**
 * A late joiner that meets several peers at once takes its catch-up from one of them: the
 * others' rounds wait their turn and then find little to send (src/sync/catch-up.ts).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const ENTRIES = 4_000

describe('a late joiner', () => {
  afterAll(stopAll)

  it('is sent the replica about once, not once by every peer it meets', async () => {
    const peers = await startPeers(3)
    const value = 'v'.repeat(100)
    for (let i = 0; i < ENTRIES; i++) await peers[i % 3].save({ collection: 'c', key: `k${i}`, variable: value })
    await waitFor(() => peers.every((p) => p.status().entries === ENTRIES), 'the three peers to hold every entry', {
      timeout: 20_000
    })
    const joiner = await startPeer({ bootstrap: peers.map((p) => p.addresses[0]) })
    await waitFor(() => joiner.status().peers.length === 3, 'the joiner to meet all three', { timeout: 20_000 })
    await waitFor(() => joiner.status().entries === ENTRIES, 'the joiner to catch up', { timeout: 20_000 })
    // Let every round the meetings opened end.
    await waitFor(() => joiner.status().sync.rounds >= 3, 'a round with each peer', { timeout: 20_000 })
    const received = joiner.status().sync.entriesReceived
    // Once from one peer, plus what the other rounds find still differing (little); without turns, about 3×.
    expect(received).toBeGreaterThanOrEqual(ENTRIES)
    expect(received).toBeLessThan(1.5 * ENTRIES)
  })
})
