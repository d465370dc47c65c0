import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, ErrorCode, type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { classicBehaviours } from '../fixtures/classic.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { killAll, startPeerProcess } from '../fixtures/processes.js'
import { rawHttp } from '../fixtures/raw-http.js'
import { waitFor } from '../fixtures/wait.js'

let peer: SharedMemPeer
let server: HttpServer

beforeAll(async () => {
  peer = await startPeer()
  server = await startHttpServer(peer, { port: 0, bodyLimit: 64 * 1024 })
})
afterAll(async () => {
  await server?.close()
  await stopAll()
  await killAll()
})

async function request(method: 'GET' | 'POST', path: string, body?: string) {
  const response = await fetch(`${server.url}/${path}`, { method, body, signal: AbortSignal.timeout(10_000) })
  return { status: response.status, body: (await response.json()) as { result?: unknown; error?: { code: string } } }
}
const post = (path: string, body: unknown) =>
  request('POST', path, typeof body === 'string' ? body : JSON.stringify(body))

describe('HTTP API', () => {
  it('serves every verb, reads by GET with query parameters and by POST', async () => {
    expect(await post('save', { collection: 'h', key: 'k', variable: { a: 1 } })).toEqual({
      status: 200,
      body: { result: true }
    })
    expect((await request('GET', 'get?collection=h&key=k')).body).toEqual({ result: { a: 1 } })
    expect((await post('get', { collection: 'h', key: 'k' })).body).toEqual({ result: { a: 1 } })
    expect((await request('GET', 'get?collection=h&key=absent')).body).toEqual({ result: null })
    expect((await request('GET', 'getArray?collection=h')).body).toEqual({ result: { k: { a: 1 } } })
    expect((await post('remove', { collection: 'h', key: 'k' })).body).toEqual({ result: true })
    expect((await request('GET', 'getArray?collection=h')).body).toEqual({ result: {} })
    expect((await post('increment', { counter: 'hc' })).body).toEqual({ result: 1 })
    expect((await post('decrement', { counter: 'hc' })).body).toEqual({ result: 0 })
    expect((await post('decrement', { counter: 'hc' })).body).toEqual({ result: -1 })
    expect((await request('GET', 'getCounter?counter=hc')).body).toEqual({ result: -1 })
    expect((await request('GET', 'collections')).body.result).toContain('h')
  })

  it('reports status and health', async () => {
    const status = (await request('GET', 'status')).body.result as { peerId: string; digest: string; sync: object }
    expect(status.peerId).toBe(peer.peerId)
    expect(status.digest).toMatch(/^[0-9a-f]{16}$/)
    expect(status).toHaveProperty('sync.inSync')
    const health = await fetch(server.url.replace(/\/sharedmem$/, '/healthz'))
    expect(await health.json()).toEqual({ status: 'ok', peerId: peer.peerId })
  })

  it('serves the test page', async () => {
    const response = await fetch(`${server.url}/testapp`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    expect(await response.text()).toContain('<title>sharedmem test page</title>')
  })

  it.each([
    ['a missing field', () => post('save', { collection: 'bad', variable: 1 }), 400, ErrorCode.INVALID_ARGUMENT],
    ['a wrong type', () => post('save', { collection: 'bad', key: 5, variable: 1 }), 400, ErrorCode.INVALID_ARGUMENT],
    ['an empty name', () => post('save', { collection: 'bad', key: '', variable: 1 }), 400, ErrorCode.INVALID_NAME],
    [
      'a bad expiry',
      () => post('save', { collection: 'bad', key: 'k', variable: 1, options: { expiresIn: 'soon' } }),
      400,
      ErrorCode.INVALID_ARGUMENT
    ],
    ['a body that is not JSON', () => post('save', '{"collection": "bad",'), 400, ErrorCode.INVALID_JSON],
    ['a body that is not an object', () => post('save', '[1,2]'), 400, ErrorCode.INVALID_ARGUMENT],
    ['an empty body', () => post('save', ''), 400, ErrorCode.INVALID_ARGUMENT],
    [
      'a body over the limit',
      () => post('save', { collection: 'bad', key: 'k', variable: 'x'.repeat(100_000) }),
      413,
      ErrorCode.BODY_TOO_LARGE
    ],
    ['an unknown verb', () => post('explode', { collection: 'bad' }), 404, ErrorCode.NOT_FOUND],
    ['a write by GET', () => request('GET', 'save?collection=bad&key=k&variable=1'), 404, ErrorCode.NOT_FOUND],
    ['a read without its field', () => request('GET', 'get?collection=bad'), 400, ErrorCode.INVALID_ARGUMENT]
  ])('answers %s with a typed error and writes nothing', async (_what, send, status, code) => {
    const before = peer.status().digest
    const answer = await send()
    expect(answer.status).toBe(status)
    expect(answer.body.error?.code).toBe(code)
    expect(peer.getArraySync({ collection: 'bad' })).toEqual({})
    expect(peer.status().digest).toBe(before)
  })

  it('streams changes as Server-Sent Events, filtered by collection', async () => {
    const controller = new AbortController()
    const response = await fetch(`${server.url}/watch?collection=sse`, { signal: controller.signal })
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await peer.save({ collection: 'other', key: 'ignored', variable: 0 })
    await peer.save({ collection: 'sse', key: 'k', variable: 'live' })
    let text = ''
    for (let i = 0; i < 20 && !text.includes('"live"'); i++)
      text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    expect(text).toMatch(/event: change\ndata: \{"type":"save","collection":"sse","key":"k","value":"live"/)
    expect(text).not.toContain('ignored')
  })
})

classicBehaviours('remote client', async () => {
  const remotePeer = await startPeer()
  const remote = await startHttpServer(remotePeer, { port: 0 })
  return {
    mem: connect(remote.url),
    close: async () => {
      await remote.close()
      await remotePeer.stop()
    }
  }
})

classicBehaviours('raw HTTP', async () => {
  const remotePeer = await startPeer()
  const remote = await startHttpServer(remotePeer, { port: 0 })
  return {
    mem: rawHttp(remote.url),
    close: async () => {
      await remote.close()
      await remotePeer.stop()
    }
  }
})

describe('remote client errors', () => {
  it('reports an unreachable server as ERR_REMOTE', async () => {
    const closed = await startHttpServer(peer, { port: 0 })
    await closed.close()
    await expect(connect(closed.url).get({ collection: 'c', key: 'k' })).rejects.toEqual(
      expect.objectContaining({ code: ErrorCode.REMOTE })
    )
  })

  it('rejects a malformed URL at once', () => {
    expect(() => connect('not a url')).toThrowError(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }))
  })
})

describe('two sharedmem server processes', () => {
  it('a save through the HTTP API of one is read through the HTTP API of the other', async () => {
    const first = await startPeerProcess([], { command: 'server' })
    const second = await startPeerProcess(['--bootstrap', first.address], { command: 'server' })
    await first.client.save({ collection: 'users', key: 'steve@example.com', variable: { first: 'steve' } })
    await waitFor(
      async () => (await second.client.get({ collection: 'users', key: 'steve@example.com' })) !== null,
      'the save to reach the second server'
    )
    expect(await second.client.get({ collection: 'users', key: 'steve@example.com' })).toEqual({ first: 'steve' })
    expect(await first.stop()).toBe(0)
    expect(await second.stop()).toBe(0)
  })
})
