/** The HTTP API's server (`startHttpServer`) and its remote client (`connect`). */
import type { FaultInjection } from './peer.js'
import type { PeerStatus } from './status.js'
import type { Callback, CollectionIterator, SharedMem } from './verbs.js'

/** Options of `startHttpServer()`. */
export interface HttpServerOptions {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string
  /** Port; 0 picks a free one. @default 3000 */
  port?: number
  /** Largest request body, in bytes. @default 4194304 (4 MiB) */
  bodyLimit?: number
  /** Interval of SSE keep-alive comments, in ms. @default 15000 */
  keepAliveInterval?: number
  /**
   * Most bytes queued in this process for one `/sharedmem/watch` subscriber. One that falls
   * further behind (it reads slower than changes come, or not at all) is sent a last
   * `event: error` with code `ERR_SLOW_CONSUMER`, and its stream is closed. Keep it above the
   * largest event you expect: an event that does not fit on its own drops any subscriber.
   * @default 8388608 (8 MiB)
   */
  watchBufferLimit?: number
  /**
   * Time a dropped `/sharedmem/watch` subscriber has to read what was queued for it and the last
   * event, in ms; then its connection is destroyed and the queue freed. @default 10000
   */
  watchDrainTimeout?: number
  /**
   * Bearer token every request must carry (`Authorization: Bearer <token>`, or `?token=` where a
   * header cannot be set, as with EventSource); `/healthz` and the test page itself stay open.
   * @default none: no authentication (keep the default loopback bind)
   */
  token?: string
  /** Origins allowed to call the API from a browser (CORS). @default none: CORS off */
  corsOrigins?: string[]
  /** Time limit for receiving a whole request, in ms (slow clients are cut off). @default 30000 */
  requestTimeout?: number
  /** Test-only: serve POST /sharedmem/_test/faults for these fault controls. @internal */
  faults?: FaultInjection
}

/** A running HTTP API, as `startHttpServer()` resolves it. */
export interface HttpServer {
  /** Base URL of the API, e.g. `http://127.0.0.1:3000/sharedmem`: pass it to `connect()`. */
  readonly url: string
  readonly port: number
  /** The `/sharedmem/watch` streams: subscribers, dropped ones, and the bytes queued for each. */
  watchStats(): WatchStats
  close(): Promise<void>
}

/** The `/sharedmem/watch` streams of a server, as `watchStats()` reports them. */
export interface WatchStats {
  /** Streams that receive changes. */
  subscribers: number
  /** Connections of dropped subscribers still open while what was queued for them drains. */
  draining: number
  /** Subscribers dropped for falling behind since the server started. */
  dropped: number
  /** Bytes queued in this process for each open stream (subscribed or draining). */
  bufferedBytes: number[]
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Time limit of one request, in ms. @default 10000 */
  timeout?: number
  /** Extra headers sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>
}

/** A client of a remote peer's HTTP API. */
export interface RemoteSharedMem extends SharedMem, CollectionIterator {
  /** The remote peer's status. */
  status(callback?: Callback<PeerStatus>): Promise<PeerStatus>
}
