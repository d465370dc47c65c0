import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, ErrorCode, type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'

let peer: SharedMemPeer
let secured: HttpServer
let open: HttpServer
let withCors: HttpServer

beforeAll(async () => {
  peer = await startPeer()
  secured = await startHttpServer(peer, { port: 0, token: 's3cret', bodyLimit: 32 * 1024 })
  open = await startHttpServer(peer, { port: 0 })
  withCors = await startHttpServer(peer, { port: 0, corsOrigins: ['http://app.example.test'] })
})
afterAll(async () => {
  await Promise.all([secured?.close(), open?.close(), withCors?.close()])
  await stopAll()
})

const save = (
  url: string,
  headers: Record<string, string> = {},
  body: unknown = { collection: 'auth', key: 'k', variable: 1 }
) => fetch(`${url}/save`, { method: 'POST', headers, body: JSON.stringify(body) })

describe('bearer token', () => {
  it('answers 401 without the token or with a wrong one, and writes nothing', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 's3cret' },
      { authorization: 'Bearer s3cre' }
    ]
    for (const headers of attempts) {
      const response = await save(secured.url, headers)
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.UNAUTHORIZED)
    }
    expect((await fetch(`${secured.url}/get?collection=auth&key=k`)).status).toBe(401)
    expect(peer.getArraySync({ collection: 'auth' })).toEqual({})
  })

  it('serves with the token, in a header or (for EventSource) a query parameter', async () => {
    expect((await save(secured.url, { authorization: 'Bearer s3cret' })).status).toBe(200)
    const read = await fetch(`${secured.url}/get?collection=auth&key=k&token=s3cret`)
    expect(await read.json()).toEqual({ result: 1 })
    const remote = connect(secured.url, { headers: { authorization: 'Bearer s3cret' } })
    expect(await remote.increment({ counter: 'auth' })).toBe(1)
    await expect(connect(secured.url).get({ collection: 'auth', key: 'k' })).rejects.toEqual(
      expect.objectContaining({ code: ErrorCode.UNAUTHORIZED })
    )
  })

  it('takes the scheme in any case, as RFC 9110 says of auth schemes', async () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const response = await save(
        secured.url,
        { authorization: `${scheme} s3cret` },
        { collection: 'cased', key: scheme, variable: 1 }
      )
      expect(response.status).toBe(200)
    }
    expect(Object.keys(peer.getArraySync({ collection: 'cased' })).sort()).toEqual(['BEARER', 'bEaReR', 'bearer'])
    for (const authorization of ['Basic s3cret', 'bearers3cret', 'bearer', 'Token s3cret']) {
      const response = await save(secured.url, { authorization }, { collection: 'cased', key: 'refused', variable: 1 })
      expect(response.status).toBe(401)
    }
    expect(peer.getSync({ collection: 'cased', key: 'refused' })).toBeNull()
  })

  it('leaves /healthz and the test page itself open', async () => {
    expect((await fetch(secured.url.replace(/\/sharedmem$/, '/healthz'))).status).toBe(200)
    expect((await fetch(`${secured.url}/testapp`)).status).toBe(200)
  })

  it('answers 413 to an oversize body, and writes nothing', async () => {
    const response = await save(
      secured.url,
      { authorization: 'Bearer s3cret' },
      { collection: 'big', key: 'k', variable: 'x'.repeat(64 * 1024) }
    )
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.BODY_TOO_LARGE)
    expect(peer.getArraySync({ collection: 'big' })).toEqual({})
  })
})

describe('CORS', () => {
  it('is off by default', async () => {
    const response = await fetch(`${open.url}/get?collection=a&key=b`, {
      headers: { origin: 'http://evil.example.test' }
    })
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('allows only the configured origins', async () => {
    const preflight = await fetch(`${withCors.url}/save`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example.test', 'access-control-request-method': 'POST' }
    })
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example.test')
    const other = await fetch(`${withCors.url}/get?collection=a&key=b`, {
      headers: { origin: 'http://evil.example.test' }
    })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('HTTP input fuzzing', () => {
  const verbs = ['save', 'get', 'remove', 'getArray', 'increment', 'decrement', 'getCounter']
  it('arbitrary JSON bodies never cause a 5xx, and a refused one changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...verbs), fc.jsonValue({ maxDepth: 5 }), async (verb, body) => {
        const before = peer.status().digest
        const response = await fetch(`${open.url}/${verb}`, { method: 'POST', body: JSON.stringify(body) })
        const payload = (await response.json()) as { result?: unknown; error?: { code: string } }
        expect(response.status).toBeLessThan(500)
        if (response.status !== 200) {
          expect(payload.error?.code).toMatch(/^ERR_/)
          expect(peer.status().digest).toBe(before)
        }
      }),
      { numRuns: 300 }
    )
  })

  it('arbitrary bytes as a body never cause a 5xx and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...verbs), fc.uint8Array({ maxLength: 256 }), async (verb, bytes) => {
        const before = peer.status().digest
        const response = await fetch(`${open.url}/${verb}`, { method: 'POST', body: bytes })
        expect(response.status).toBeLessThan(500)
        if (response.status !== 200) expect(peer.status().digest).toBe(before)
      }),
      { numRuns: 200 }
    )
  })
})
