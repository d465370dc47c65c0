import { connect as tcpConnect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

/** A small bound, so that a few dozen 100 KB changes overrun it once the kernel's socket buffers are full. */
const LIMIT = 256 * 1024
// Values of their own buffer in the store (over 64 KiB): smaller ones overwritten in a loop hit a store
// defect (Collection.set releases a record that a compaction during its write has moved).
const VALUE = 'x'.repeat(100 * 1024)
/** Most saves a test makes while it waits for the server to drop a client. */
const MAX_SAVES = 1_000

const servers: HttpServer[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await stopAll()
})

async function serve(drainTimeout: number): Promise<{ peer: SharedMemPeer; server: HttpServer }> {
  const peer = await startPeer()
  const server = await startHttpServer(peer, { port: 0, watchBufferLimit: LIMIT, watchDrainTimeout: drainTimeout })
  servers.push(server)
  return { peer, server }
}

/** A raw connection that asks for the watch stream and reads nothing until `resume()`. */
function stalledClient(server: HttpServer) {
  const socket = tcpConnect(server.port, '127.0.0.1')
  let text = ''
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1')
  })
  socket.pause()
  socket.write('GET /sharedmem/watch?collection=w HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  return {
    closed,
    received: () => text,
    resume: () => socket.resume(),
    destroy: () => socket.destroy()
  }
}

/** A client that reads the stream as fast as it comes and counts its change events. */
async function readingClient(server: HttpServer) {
  const controller = new AbortController()
  const response = await fetch(`${server.url}/watch?collection=w`, { signal: controller.signal })
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let pending = ''
  let changes = 0
  const reading = (async () => {
    for (let i = 0; i < 1_000_000; i++) {
      const { value, done } = await reader.read()
      if (done) return
      const events = (pending + decoder.decode(value, { stream: true })).split('\n\n')
      pending = events.pop() ?? ''
      changes += events.filter((e) => e.startsWith('event: change\n')).length
    }
  })().catch(() => {})
  return {
    changes: () => changes,
    stop: async () => {
      controller.abort()
      await reading
    }
  }
}

/**
 * Saves 100 KB values until the server has dropped `dropped` subscribers; checks every stream's
 * queue after each, and waits for `caughtUp(saves)` (a reading client) before the next.
 */
async function saveUntilDropped(
  peer: SharedMemPeer,
  server: HttpServer,
  dropped: number,
  caughtUp: (saves: number) => boolean = () => true
): Promise<number> {
  let saves = 0
  let largest = 0
  while (saves < MAX_SAVES && server.watchStats().dropped < dropped) {
    await peer.save({ collection: 'w', key: `k${saves % 16}`, variable: VALUE })
    saves++
    await new Promise((resolve) => setImmediate(resolve)) // let the sockets do their I/O
    largest = Math.max(largest, ...server.watchStats().bufferedBytes)
    expect(largest).toBeLessThanOrEqual(LIMIT)
    await waitFor(() => caughtUp(saves), 'the reading client to receive the change')
  }
  expect(server.watchStats().dropped).toBe(dropped)
  return saves
}

describe('/sharedmem/watch with a client that does not read', () => {
  it('drops it with a last event that says why, within the bound, and keeps serving a reading client', async () => {
    const { peer, server } = await serve(60_000)
    const stalled = stalledClient(server)
    const reading = await readingClient(server)
    try {
      await waitFor(() => server.watchStats().subscribers === 2, 'both clients to subscribe')
      const saves = await saveUntilDropped(peer, server, 1, (n) => reading.changes() >= n)
      expect(server.watchStats()).toMatchObject({ subscribers: 1, draining: 1, dropped: 1 })
      expect(reading.changes()).toBe(saves)

      // Once it reads, the dropped client gets what was queued, then the last event, then the end.
      stalled.resume()
      await waitFor(() => server.watchStats().draining === 0, 'the dropped stream to drain')
      await stalled.closed
      const events = stalled.received().split('\n\n')
      const last = events.filter((e) => e.includes('event: ')).at(-1)
      expect(last).toMatch(/^event: error\ndata: /m)
      const data = JSON.parse((last as string).split('data: ')[1]) as { error: { code: string } }
      expect(data.error.code).toBe(ErrorCode.SLOW_CONSUMER)
      expect(server.watchStats()).toMatchObject({ subscribers: 1, draining: 0, dropped: 1 })
      expect(server.watchStats().bufferedBytes).toHaveLength(1)
    } finally {
      stalled.destroy()
      await reading.stop()
    }
  })

  it('destroys its connection and frees its queue when it still does not read after watchDrainTimeout', async () => {
    const { peer, server } = await serve(100)
    const stalled = stalledClient(server)
    try {
      await waitFor(() => server.watchStats().subscribers === 1, 'the client to subscribe')
      await saveUntilDropped(peer, server, 1)
      await waitFor(() => server.watchStats().draining === 0, 'the dropped connection to be destroyed')
      expect(server.watchStats()).toEqual({ subscribers: 0, draining: 0, dropped: 1, bufferedBytes: [] })
      stalled.resume()
      await stalled.closed // the server closed the connection
    } finally {
      stalled.destroy()
    }
  })
})
