/**
 * A peer whose wall clock lies beyond maxClockSkew from its swarm's notices it, says so
 * (status, a refused write with a stable code) and does not acknowledge writes the swarm
 * would refuse; a peer restarted on the right clock after running ahead writes again at
 * once. In-process peers on injected clocks.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeUpdates } from '../../src/codec/index.js'
import { ErrorCode, type SharedMemPeer } from '../../src/index.js'
import type { SharedMemNode } from '../../src/peer/node.js'
import { hostileNode, TOPIC } from '../fixtures/hostile.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const HOUR = 3_600_000
const at = (offset: number) => () => Date.now() + offset

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sharedmem-clock-'))
})
const nodes: SharedMemNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await stopAll()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** Two peers on the right time and one `offset` ms off, each having measured the other two. */
async function swarmWithOneOff(offset: number): Promise<{ off: SharedMemPeer; good: SharedMemPeer[] }> {
  const first = await startPeer({ now: at(0) })
  const second = await startPeer({ now: at(0), bootstrap: [first.addresses[0]] })
  const off = await startPeer({ now: at(offset), bootstrap: [first.addresses[0]] })
  const peers = [first, second, off]
  await waitFor(() => peers.every((p) => p.status().clock.peers === 2), 'every peer to measure the other two')
  return { off, good: [first, second] }
}

describe('clock skew', () => {
  it('a peer started with a bootstrap peer on a clock 1 h ahead refuses its very first write', async () => {
    // Ahead is the direction whose writes the swarm refuses (one measured peer flags the one ahead).
    const good = await startPeer({ now: at(0), rendezvous: false })
    const off = await startPeer({ now: at(HOUR), rendezvous: false, bootstrap: [good.addresses[0]] })
    // No wait: createPeer resolved once its clock was measured against its bootstrap peer.
    await expect(off.save({ collection: 'c', key: 'first', variable: 1 })).rejects.toMatchObject({
      code: ErrorCode.CLOCK_UNSYNCED
    })
    expect(off.getSync({ collection: 'c', key: 'first' })).toBeNull()
  })

  it('a skewed peer judges remote stamps by the swarm clock: it takes what the swarm takes, refuses what it refuses', async () => {
    for (const offset of [HOUR, -HOUR]) {
      const { off, good } = await swarmWithOneOff(offset)
      // A write on the swarm's time reaches the peer 1 h behind (it refused it before).
      await good[0].save({ collection: 'now', key: String(offset), variable: 'current' })
      await waitFor(() => off.getSync({ collection: 'now', key: String(offset) }) === 'current', 'a current write')
      // A write stamped 1 h ahead of the swarm (a peer as far off, a hostile one) is refused by all,
      // the peer 1 h ahead included (it took it before, and held what no one else would).
      const evil = await hostileNode()
      nodes.push(evil)
      evil.services.pubsub.subscribe(TOPIC)
      await evil.dial(multiaddr(off.addresses[0]))
      await waitFor(() => evil.services.pubsub.getSubscribers(TOPIC).length > 0, 'the raw node to see the peer')
      const me = evil.peerId.toString()
      const write = (key: string, wall: number) =>
        encodeUpdates(
          [
            { update: { collection: 'ahead', key, wall, logical: 0, node: me, expiresAt: 0, deleted: false, value: 1 } }
          ],
          []
        )
      await evil.services.pubsub.publish(TOPIC, write('future', Date.now() + HOUR))
      await evil.services.pubsub.publish(TOPIC, write('probe', Date.now()))
      await waitFor(() => off.getSync({ collection: 'ahead', key: 'probe' }) === 1, 'the probe write')
      expect(off.getSync({ collection: 'ahead', key: 'future' })).toBeNull()
      await stopAll()
    }
  })

  it("tells its 'clock' listeners when it becomes skewed, as the CLI logs it", async () => {
    // The peer off by an hour starts alone, with its listener, and is then joined.
    const off = await startPeer({ now: at(HOUR), rendezvous: false })
    const events: Array<{ skewed: boolean; offsetMs: number; peers: number }> = []
    off.on('clock', (e) => events.push(e))
    const good = await startPeer({ now: at(0), rendezvous: false, bootstrap: [off.addresses[0]] })
    await waitFor(() => events.length > 0, 'a clock event')
    expect(events[0]).toMatchObject({ skewed: true, peers: 1 })
    expect(Math.abs(events[0].offsetMs - HOUR)).toBeLessThan(5_000)
    expect(good.status().clock.skewed).toBe(false)
  })

  for (const [name, offset] of [
    ['behind', -HOUR],
    ['ahead', HOUR]
  ] as const) {
    it(`flags a peer 1 h ${name} and refuses its saves and removes with ERR_CLOCK_UNSYNCED`, async () => {
      const { off, good } = await swarmWithOneOff(offset)
      const clock = off.status().clock
      expect(clock.skewed).toBe(true)
      expect(Math.abs(clock.offsetMs - offset)).toBeLessThan(5_000)
      await expect(off.save({ collection: 'c', key: 'k', variable: 'lost' })).rejects.toMatchObject({
        code: ErrorCode.CLOCK_UNSYNCED
      })
      await expect(off.remove({ collection: 'c', key: 'k' })).rejects.toMatchObject({
        code: ErrorCode.CLOCK_UNSYNCED
      })
      expect(off.getSync({ collection: 'c', key: 'k' })).toBeNull()
      // Counter totals carry no stamp: they replicate whatever the clocks say.
      await off.increment({ counter: 'n' })
      await waitFor(() => good[0].getCounterSync({ counter: 'n' }) === 1, 'the increment to replicate')
      for (const peer of good) {
        expect(peer.status().clock.skewed).toBe(false)
        await peer.save({ collection: 'c', key: peer.peerId, variable: 'kept' })
      }
    })
  }

  it('does not flag a peer within maxClockSkew, and its writes replicate', async () => {
    const { off, good } = await swarmWithOneOff(30_000)
    for (const peer of [off, ...good]) expect(peer.status().clock.skewed).toBe(false)
    expect(Math.abs(off.status().clock.offsetMs - 30_000)).toBeLessThan(5_000)
    await off.save({ collection: 'c', key: 'k', variable: 'v' })
    await waitFor(() => good.every((p) => p.getSync({ collection: 'c', key: 'k' }) === 'v'), 'replication')
  })

  it('a peer whose clock is set back while it runs refuses writes its clock would stamp ahead', async () => {
    let offset = HOUR
    const first = await startPeer({ now: at(0) })
    const second = await startPeer({ now: at(0), bootstrap: [first.addresses[0]] })
    const ahead = await startPeer({
      now: () => Date.now() + offset,
      clockProbeInterval: 100,
      bootstrap: [first.addresses[0]]
    })
    await waitFor(() => ahead.status().clock.skewed, 'the peer ahead to be flagged')
    // A write it accepts moves its clock to its own (wrong) wall clock.
    await first.save({ collection: 'c', key: 'seen', variable: 1 })
    await waitFor(() => ahead.getSync({ collection: 'c', key: 'seen' }) === 1, 'the write to reach the peer ahead')
    offset = 0 // NTP fixes the host's clock
    await waitFor(() => Math.abs(ahead.status().clock.offsetMs) < 5_000, 'a new measurement')
    const clock = ahead.status().clock
    expect(clock.stampLeadMs).toBeGreaterThan(50 * 60_000)
    expect(clock.skewed).toBe(true)
    await expect(ahead.save({ collection: 'c', key: 'k', variable: 'lost' })).rejects.toMatchObject({
      code: ErrorCode.CLOCK_UNSYNCED
    })
    expect(second.status().clock.skewed).toBe(false)
  })

  it('a peer restarted on the right clock after running 1 h ahead writes stamps the swarm accepts', async () => {
    const dataDir = join(root, 'ahead')
    const ahead = await startPeer({ dataDir, now: at(HOUR), fsyncInterval: 0 })
    await ahead.save({ collection: 'c', key: 'written-ahead', variable: 'future' })
    await ahead.stop()

    const healthy = await startPeer({ now: at(0) })
    const restarted = await startPeer({ dataDir, now: at(0), bootstrap: [healthy.addresses[0]] })
    expect(restarted.getSync({ collection: 'c', key: 'written-ahead' })).toBe('future')
    expect(restarted.status().clock.restoredAhead).toBeGreaterThan(Date.now() + 50 * 60_000)
    await waitFor(() => restarted.status().clock.peers === 1, 'the restarted peer to measure the healthy one')
    expect(restarted.status().clock.skewed).toBe(false)

    await restarted.save({ collection: 'c', key: 'after-restart', variable: 'now' })
    await waitFor(() => healthy.getSync({ collection: 'c', key: 'after-restart' }) === 'now', 'the write to replicate')
    expect(healthy.status().rejections['gossip:clock-skew'] ?? 0).toBe(0)
    // The key written ahead holds a stamp this clock cannot pass without stamping ahead again.
    await expect(restarted.save({ collection: 'c', key: 'written-ahead', variable: 'x' })).rejects.toMatchObject({
      code: ErrorCode.CLOCK_UNSYNCED
    })
    expect(restarted.getSync({ collection: 'c', key: 'written-ahead' })).toBe('future')
  })
})
