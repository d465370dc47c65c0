/**
 * /readyz answers 503 until the peer is ready (its first sync round ended, or it had no one to
 * meet) and while its clock disagrees with the swarm's; /livez answers while the process does.
 * Both are open without the token (probes hold none). Real peers in this process, on 127.0.0.1.
 */
import { createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const servers: HttpServer[] = []
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await stopAll()
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

async function serve(peer: SharedMemPeer): Promise<(path: string) => Promise<{ status: number; body: unknown }>> {
  const server = await startHttpServer(peer, { port: 0, token: 'secret' })
  servers.push(server)
  const origin = new URL(server.url).origin
  return async (path) => {
    const response = await fetch(`${origin}${path}`, { signal: AbortSignal.timeout(10_000) })
    return { status: response.status, body: await response.json() }
  }
}

/** A port where a server takes connections and never answers: a dial there ends at its timeout. */
async function silentPort(): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => sockets.add(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as { port: number }).port
}

describe('/readyz and /livez', () => {
  it('/readyz: 503 while the bootstrap dial is under way, 200 once the peer is ready; /livez: 200 throughout', async () => {
    const peer = await startPeer({
      rendezvous: false,
      bootstrap: [`127.0.0.1:${await silentPort()}`],
      dialTimeout: 4_000
    })
    const get = await serve(peer)
    expect(await get('/readyz')).toEqual({
      status: 503,
      body: { status: 'not ready', reason: 'syncing', peerId: peer.peerId }
    })
    expect(await get('/livez')).toEqual({ status: 200, body: { status: 'ok', peerId: peer.peerId } })
    await peer.ready()
    expect(await get('/readyz')).toEqual({ status: 200, body: { status: 'ready', peerId: peer.peerId } })
    expect((await get('/healthz')).status).toBe(200)
  })

  it('/readyz: 503 clock-unsynced while the clock disagrees with the swarm, though the first round ended', async () => {
    const good = await startPeer({ rendezvous: false })
    const off = await startPeer({
      rendezvous: false,
      bootstrap: [good.addresses[0]],
      now: () => Date.now() + 3_600_000
    })
    await off.ready()
    await waitFor(() => off.status().clock.skewed, 'the clock 1 h ahead to be flagged')
    const get = await serve(off)
    expect(await get('/readyz')).toEqual({
      status: 503,
      body: { status: 'not ready', reason: 'clock-unsynced', peerId: off.peerId }
    })
    expect(off.status().ready).toBe(false)
    expect((await get('/livez')).status).toBe(200)
  })
})
