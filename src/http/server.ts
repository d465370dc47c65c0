/**
 * The HTTP API of a peer (docs/http.md): one endpoint per verb under
 * /sharedmem/, a Server-Sent Events stream of changes, status, health, and the
 * test page. Validation is the peer's own, so HTTP and the embedded API accept
 * and reject exactly the same input.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import cors from '@fastify/cors'
import { logger } from '@libp2p/logger'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import {
  DEFAULT_HTTP_BODY_LIMIT,
  DEFAULT_HTTP_DRAIN_BYTES,
  DEFAULT_HTTP_PORT,
  DEFAULT_HTTP_REQUEST_TIMEOUT,
  DEFAULT_HTTP_WATCH_BUFFER_BYTES,
  DEFAULT_HTTP_WATCH_DRAIN_TIMEOUT,
  DEFAULT_HTTP_WATCH_KEEP_ALIVE
} from '../constants.js'
import type { HttpServer, HttpServerOptions, SharedMemPeer } from '../contract.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import { drainRequest } from './drain.js'
import { toHttpError } from './errors.js'
import { createMetrics } from './metrics.js'
import { isPerfectApiClient, perfectApiConfig, perfectApiError, sendPerfectApiResult } from './perfectapi.js'
import { VERB_ENTRIES, type Verb } from './verbs.js'
import { createWatchHub, type WatchFilter } from './watch.js'

const TESTAPP = new URL('./public/testapp.html', import.meta.url)

const digestOf = (token: string): Buffer => createHash('sha256').update(token).digest()

/** The credentials of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110 §11.1). */
function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : /^bearer +(.+)$/i.exec(header)?.[1]
}

export async function startHttpServer(peer: SharedMemPeer, options: HttpServerOptions = {}): Promise<HttpServer> {
  const log = logger('sharedmem:http')
  const bodyLimit = options.bodyLimit ?? DEFAULT_HTTP_BODY_LIMIT
  const requestTimeout = options.requestTimeout ?? DEFAULT_HTTP_REQUEST_TIMEOUT
  const app: FastifyInstance = Fastify({
    bodyLimit,
    forceCloseConnections: true,
    requestTimeout,
    // Given to Node's server at construction, so that its headersTimeout (60 s by default) is
    // lowered to requestTimeout: set only afterwards, as fastify does, a slow body was never cut
    // off. Deadlines are checked every second instead of every 30 s.
    http: { requestTimeout, connectionsCheckingInterval: Math.min(1_000, requestTimeout) }
  })
  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) {
    await app.register(cors, { origin: options.corsOrigins })
  }
  if (options.token !== undefined) {
    const expected = digestOf(options.token)
    // The perfectapi client reads its config with fixed headers: it describes the API and holds no data.
    // Probes (/livez, /readyz) come from supervisors that hold no token, and learn nothing of the data.
    const open = new Set(['/healthz', '/livez', '/readyz', '/sharedmem/testapp', '/sharedmem/config'])
    app.addHook('onRequest', async (req) => {
      if (req.method === 'OPTIONS' || open.has(req.url.split('?')[0])) return
      const query = (req.query as { token?: unknown }).token
      const given = bearerToken(req.headers.authorization) ?? (typeof query === 'string' ? query : undefined)
      // Compare digests of equal length in constant time: no timing hint at the token.
      if (given === undefined || !timingSafeEqual(digestOf(given), expected)) {
        throw new SharedMemError(ErrorCode.UNAUTHORIZED, 'a valid bearer token is required')
      }
    })
  }
  const watchers = createWatchHub(peer, {
    maxBufferedBytes: options.watchBufferLimit ?? DEFAULT_HTTP_WATCH_BUFFER_BYTES,
    keepAliveInterval: options.keepAliveInterval ?? DEFAULT_HTTP_WATCH_KEEP_ALIVE,
    drainTimeout: options.watchDrainTimeout ?? DEFAULT_HTTP_WATCH_DRAIN_TIMEOUT
  })

  // Every request body is JSON, whatever its content type says, so `curl -d '{…}'` works as typed.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    if (body === '') return done(null, undefined)
    try {
      done(null, JSON.parse(body as string))
    } catch {
      done(new SharedMemError(ErrorCode.INVALID_JSON, 'the request body is not valid JSON'), undefined)
    }
  })
  const sendError = (req: FastifyRequest, reply: FastifyReply, status: number, code: ErrorCode, message: string) =>
    reply.code(status).send(isPerfectApiClient(req) ? perfectApiError(code, message) : { error: { code, message } })
  app.setErrorHandler(async (err, req, reply) => {
    const { status, code, message } = toHttpError(err)
    if (status >= 500) log.error('request failed: %e', err)
    if (code === ErrorCode.BODY_TOO_LARGE) {
      await drainRequest(req.raw, { maxBytes: DEFAULT_HTTP_DRAIN_BYTES, timeout: requestTimeout })
    }
    return sendError(req, reply, status, code, message)
  })
  app.setNotFoundHandler((req, reply) => {
    void sendError(req, reply, 404, ErrorCode.NOT_FOUND, `no endpoint ${req.method} ${req.url}`)
  })

  /** Runs a verb and answers `{result}`, or the bare result to the perfectapi client. */
  const serve =
    (verb: Verb, from: 'query' | 'body') =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const args = from === 'query' ? req.query : req.body
      const result = await (peer[verb] as (config: unknown) => Promise<unknown>).call(peer, args ?? {})
      return isPerfectApiClient(req) ? sendPerfectApiResult(reply, result) : { result }
    }
  for (const [verb, spec] of VERB_ENTRIES) {
    if (spec.kind === 'read') app.get(`/sharedmem/${verb}`, serve(verb, 'query'))
    app.post(`/sharedmem/${verb}`, serve(verb, 'body'))
  }
  app.get('/sharedmem/config', async () => perfectApiConfig())
  app.get('/sharedmem/collections', async () => ({ result: peer.collections() }))
  app.get('/sharedmem/status', async () => ({ result: peer.status() }))
  const faults = options.faults
  if (faults !== undefined) {
    app.post('/sharedmem/_test/faults', async (req) => ({ result: faults.set((req.body ?? {}) as object) }))
  }
  const metrics = createMetrics(peer)
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.scrape()))
  app.get('/healthz', async () => ({ status: 'ok', peerId: peer.peerId }))
  // Alive: the process answers. A supervisor restarts it when this fails, never for /readyz.
  app.get('/livez', async () => ({ status: 'ok', peerId: peer.peerId }))
  // Ready: its first sync round ended (or it had no one to meet), and its clock agrees with the
  // swarm's; until then a load balancer should send it no traffic (503).
  app.get('/readyz', async (_req, reply) => {
    const { ready, clock } = peer.status()
    if (ready) return { status: 'ready', peerId: peer.peerId }
    const reason = clock.skewed ? 'clock-unsynced' : 'syncing'
    return reply.code(503).send({ status: 'not ready', reason, peerId: peer.peerId })
  })
  let page: Buffer | undefined // read once: the file does not change while the server runs
  app.get('/sharedmem/testapp', async (_req, reply) => {
    page ??= await readFile(TESTAPP)
    return reply.type('text/html; charset=utf-8').send(page)
  })
  app.get('/sharedmem/watch', (req, reply) => {
    const { collection, counter } = req.query as WatchFilter
    reply.hijack()
    watchers.subscribe(reply.raw, { collection, counter })
  })

  const host = options.host ?? '127.0.0.1'
  await app.listen({ host, port: options.port ?? DEFAULT_HTTP_PORT })
  const { port } = app.server.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${port}/sharedmem`,
    port,
    watchStats: () => watchers.stats(),
    close() {
      closing ??= (async () => {
        watchers.close()
        await app.close()
      })()
      return closing
    }
  }
}
