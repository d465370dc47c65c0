/**
 * A peer with no data directory holds nothing across a restart: when it stops, it tells the
 * swarm, and the others stop holding collection back for it at once (instead of after
 * memberTimeout). A peer with a data directory says nothing: it may come back with old versions.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sharedmem-leave-'))
})
afterEach(stopAll)
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('leaving for good', () => {
  it('a memory-only peer that stops is forgotten by the others; one with a data directory is waited for', async () => {
    const stays = await startPeer({ rendezvous: false })
    const memory = await startPeer({ rendezvous: false, bootstrap: [stays.addresses[0]] })
    const durable = await startPeer({ rendezvous: false, dataDir: join(root, 'd'), bootstrap: [stays.addresses[0]] })
    await waitFor(() => stays.status().peers.length === 2, 'both to join')
    await stays.syncNow()
    expect(stays.status().sync.membership.members).toBe(3)
    await memory.stop()
    await waitFor(() => stays.status().sync.membership.members === 2, 'the memory-only peer to be forgotten')
    await durable.stop()
    // A leave notice goes out before the connection closes, on that connection: once the peer is gone
    // from `stays`, one would have arrived. The peer with a data directory stays a member.
    await waitFor(() => !stays.status().peers.includes(durable.peerId), 'the durable peer to be disconnected')
    expect(stays.status().sync.membership.members).toBe(2)
  })
})
