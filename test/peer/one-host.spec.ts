/**
 * Many peers on one host, as node:cluster runs 16 workers: they share one IP address, which
 * gossipsub's default scoring penalised (-5 per peer past 10, squared). From 16 peers on (15
 * others on one address: -125), every peer fell below the graylist threshold (-80) and every
 * gossip RPC among them was ignored: the 16th never heard a subscription, and writes crossed
 * only by sync.
 */
import { afterEach, expect, it } from 'vitest'
import { startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

it('16 peers on one IP address all subscribe to each other, and a write reaches all of them by gossip', async () => {
  // Periodic sync a minute away; and every write must be applied from gossip.
  // 16 peers in one process meet in about 6 s here, 11 s with both cores busy; before the fix, never.
  const peers = await startPeers(16, { syncInterval: 60_000 }, { timeout: 90_000 })
  const [writer, ...others] = peers
  for (let i = 0; i < 100; i++) writer.save({ collection: 'c', key: `k${i}`, variable: i })
  await waitFor(
    () => others.every((p) => Object.keys(p.getArraySync({ collection: 'c' })).length === 100),
    'the writes at every peer',
    { timeout: 30_000 }
  )
  expect(others.every((p) => p.status().gossip.applied >= 100)).toBe(true)
}, 180_000)
