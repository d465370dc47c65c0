/**
 * A bootstrap address that cannot be reached is said, with the reason, in status() and once in a
 * `bootstrap` event; a peer told of others that has met none is "waiting", never "in sync".
 * Several real peers in this process, on 127.0.0.1.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapAddressStatus, SharedMemPeer } from '../../src/index.js'
import { generateSwarmKey } from '../../src/peer/swarm-key.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const servers: Array<{ server: Server; sockets: Set<Socket> }> = []
afterEach(async () => {
  await stopAll()
  await Promise.all(
    servers.splice(0).map(({ server, sockets }) => {
      // libp2p gives up on a dial without always closing its socket: close waits for none.
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    })
  )
})

/** A TCP port on 127.0.0.1 with a server that `accept`s connections and never answers, or a closed one. */
async function port(accept: boolean): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  if (accept) servers.push({ server, sockets })
  else await new Promise((resolve) => server.close(resolve))
  return port
}

const only = (p: SharedMemPeer): BootstrapAddressStatus => {
  const [b] = p.status().bootstrap.addresses
  if (b === undefined) throw new Error('no bootstrap address in status')
  return b
}

describe('bootstrap reachability', () => {
  it('where nothing listens: refused, waiting for bootstrap, not in sync, and said once', async () => {
    const p = await startPeer({ bootstrap: [`127.0.0.1:${await port(false)}`], redialInterval: 100 })
    const events: BootstrapAddressStatus[] = []
    p.on('bootstrap', (e) => events.push(e))
    await waitFor(
      () => only(p).failures >= 4,
      () => `4 failed dials: ${JSON.stringify(only(p))}`
    )
    expect(only(p)).toMatchObject({ state: 'unreachable', problem: 'refused', peerId: null })
    const status = p.status()
    expect(status.bootstrap.waiting).toBe(true)
    expect(status.sync.inSync).toBe(false)
    // The first failure was reported (before createPeer resolved); the same one again is not.
    expect(events).toEqual([])
  })

  it('where a server takes the connection and says nothing: timeout', async () => {
    const p = await startPeer({ bootstrap: [`127.0.0.1:${await port(true)}`], dialTimeout: 300 })
    await waitFor(
      () => only(p).state === 'unreachable',
      () => JSON.stringify(only(p))
    )
    expect(only(p)).toMatchObject({ problem: 'timeout', message: expect.stringContaining('300 ms') })
  })

  it('a peer with another swarm key: swarm-key, whether the handshake fails or hangs to the timeout', async () => {
    // With keys that differ, the enciphered handshake reads as garbage: it fails at once or waits for
    // bytes that never come (a garbled length), by the keys drawn. A short dial timeout and five pairs
    // of keys meet both; each must be told as a swarm key, never as a timeout.
    for (let i = 0; i < 5; i++) {
      const a = await startPeer({ swarmKey: generateSwarmKey() })
      const b = await startPeer({ swarmKey: generateSwarmKey(), bootstrap: [a.addresses[0]], dialTimeout: 300 })
      await waitFor(
        () => only(b).state === 'unreachable',
        () => JSON.stringify(only(b))
      )
      expect(only(b).problem, JSON.stringify(only(b))).toBe('swarm-key')
      expect(b.status().bootstrap.waiting).toBe(true)
      expect(b.status().sync.inSync).toBe(false)
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('an address naming another peer id: reached and kept, with the mismatch said', async () => {
    const [a, other] = await Promise.all([startPeer(), startPeer()])
    const wrong = a.addresses[0].replace(a.peerId, other.peerId)
    const b = await startPeer({ bootstrap: [wrong] })
    await waitFor(
      () => only(b).state === 'connected',
      () => JSON.stringify(only(b))
    )
    expect(only(b)).toMatchObject({ peerId: a.peerId, problem: 'peer-id' })
    expect(only(b).message).toContain(other.peerId)
    expect(b.status().bootstrap.waiting).toBe(false)
  })

  it('reached once a peer listens there: one event, no longer waiting, then in sync', async () => {
    const free = await port(false)
    const b = await startPeer({ bootstrap: [`127.0.0.1:${free}`], redialInterval: 100 })
    const events: BootstrapAddressStatus[] = []
    b.on('bootstrap', (e) => events.push(e))
    expect(only(b).state).toBe('unreachable')
    const a = await startPeer({ listen: [`/ip4/127.0.0.1/tcp/${free}`] })
    await waitFor(
      () => only(b).state === 'connected',
      () => JSON.stringify(only(b))
    )
    expect(events).toEqual([expect.objectContaining({ state: 'connected', peerId: a.peerId, problem: null })])
    expect(b.status().bootstrap.waiting).toBe(false)
    await b.syncNow()
    await waitFor(() => b.status().sync.inSync, 'b in sync after a round with a')
  })
})
