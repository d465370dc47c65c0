import { afterAll, expect, it } from 'vitest'
import { startPeers, stopAll, waitFor } from '../fixtures/peers.js'

afterAll(stopAll)

it('replicates between three peers', async () => {
  const peers = await startPeers(3)
  await peers[0].save({ collection: 'c', key: 'k', variable: { a: 1 } })
  await waitFor(() => peers.every((p) => p.getSync({ collection: 'c', key: 'k' }) !== null), 'replication')
  expect(peers[2].getSync({ collection: 'c', key: 'k' })).toEqual({ a: 1 })
})
