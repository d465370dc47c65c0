/**
 * The HTTP API's entry point. The server and its dependencies (fastify,
 * prom-client) load on the first start: a process that embeds a peer without
 * HTTP does not hold them (docs/benchmarks.md).
 */
import type { HttpServer, HttpServerOptions, SharedMemPeer } from '../contract.js'

/** Serves `peer`'s HTTP API and test page (see docs/http.md); resolves once it listens. */
export async function startHttpServer(peer: SharedMemPeer, options: HttpServerOptions = {}): Promise<HttpServer> {
  const server = await import('./server.js')
  return server.startHttpServer(peer, options)
}
