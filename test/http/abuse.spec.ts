import { request } from 'node:http'
import { connect as tcpConnect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorCode, type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'

let peer: SharedMemPeer
let server: HttpServer

beforeAll(async () => {
  peer = await startPeer({ maxEntries: 100 })
  server = await startHttpServer(peer, { port: 0, requestTimeout: 1_000 })
})
afterAll(async () => {
  await server?.close()
  await stopAll()
})

/** A POST on a connection of its own; resolves the status and code, or the network error's code. */
function post(
  path: string,
  body: Buffer | string | AsyncIterable<Buffer>
): Promise<{ status?: number; code?: string }> {
  return new Promise((resolve) => {
    const chunked = typeof body !== 'string' && !Buffer.isBuffer(body)
    const headers = chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }
    const req = request(`${server.url}/${path}`, { method: 'POST', agent: false, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () =>
        resolve({ status: res.statusCode, code: (JSON.parse(text) as { error?: { code: string } }).error?.code })
      )
    })
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')))
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? err.message }))
    if (chunked) {
      void (async () => {
        for await (const chunk of body) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r))
        req.end()
      })().catch(() => {})
    } else req.end(body)
  })
}

describe('HTTP under abuse', () => {
  it('answers every 50 MB upload with 413, never with a reset connection', async () => {
    const body = Buffer.alloc(50 * 1024 * 1024, 'x')
    const answers = []
    for (let i = 0; i < 8; i++) answers.push(await post('save', body))
    expect(answers).toEqual(Array(8).fill({ status: 413, code: ErrorCode.BODY_TOO_LARGE }))
  })

  it('answers a chunked upload that grows past the limit with 413', async () => {
    async function* chunks() {
      for (let i = 0; i < 128; i++) yield Buffer.alloc(64 * 1024, 'y') // 8 MiB, no content-length
    }
    expect(await post('save', chunks())).toEqual({ status: 413, code: ErrorCode.BODY_TOO_LARGE })
  })

  it('cuts off a slow client within requestTimeout and keeps serving others meanwhile', async () => {
    const { port } = server
    const socket = tcpConnect(port, '127.0.0.1')
    const closed = new Promise<number>((resolve) => {
      const opened = Date.now()
      socket.on('close', () => resolve(Date.now() - opened))
      socket.on('error', () => {})
    })
    socket.write('POST /sharedmem/save HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"coll')
    // Dribble a byte every 200 ms: each arrives well within any idle timeout.
    const dribble = setInterval(() => socket.writable && socket.write('e'), 200)
    let lasted: number
    try {
      const meanwhile = await fetch(`${server.url}/get?collection=c&key=k`)
      expect(meanwhile.status).toBe(200)
      lasted = await closed
    } finally {
      clearInterval(dribble)
      socket.destroy()
    }
    expect(lasted).toBeLessThan(10_000) // cut off near the 1 s requestTimeout, not left open
  })

  it('serves 300 concurrent connections', async () => {
    const one = () =>
      new Promise<number | undefined>((resolve) => {
        const req = request(`${server.url}/getCounter?counter=c`, { agent: false }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode))
        })
        req.on('error', () => resolve(undefined))
        req.end()
      })
    const statuses = await Promise.all(Array.from({ length: 300 }, one))
    expect(statuses).toEqual(Array(300).fill(200))
  })

  it('caps the entries local writes may create at maxEntries, with ERR_STORE_FULL (507)', async () => {
    for (let i = 0; i < 100; i++) await peer.save({ collection: 'flood', key: `k${i}`, variable: i })
    expect(await post('save', JSON.stringify({ collection: 'flood', key: 'one-more', variable: 1 }))).toEqual({
      status: 507,
      code: ErrorCode.STORE_FULL
    })
    await expect(peer.save({ collection: 'other', key: 'x', variable: 1 })).rejects.toMatchObject({
      code: ErrorCode.STORE_FULL
    })
    expect(peer.getSync({ collection: 'flood', key: 'one-more' })).toBeNull()
    // Overwrites, removes and counters still work; a removed key frees its place.
    expect(await peer.save({ collection: 'flood', key: 'k1', variable: 'again' })).toBe(true)
    expect(await peer.increment({ counter: 'c' })).toBe(1)
    expect(await peer.remove({ collection: 'flood', key: 'k2' })).toBe(true)
    expect(await peer.save({ collection: 'flood', key: 'one-more', variable: 1 })).toBe(true)
    expect(peer.status().entries).toBe(100)
  })
})
