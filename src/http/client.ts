/**
 * The remote client: the same verbs as an embedded peer, over a standalone
 * peer's HTTP API. Errors the server reports come back as the same typed
 * SharedMemErrors; network failures are `ERR_REMOTE`, time-outs `ERR_TIMEOUT`.
 */
import { DEFAULT_HTTP_PORT } from '../constants.js'
import type {
  Callback,
  CollectionConfig,
  CounterConfig,
  KeyConfig,
  PeerStatus,
  SaveConfig,
  SharedMem
} from '../contract.js'
import { ErrorCode, invalidArgument, isErrorCode, SharedMemError } from '../errors.js'
import { type ArgLimits, collectionArgs, counterArgs, keyArgs, saveArgs } from '../peer/args.js'
import type { Json } from '../store/validate.js'
import { settle } from '../util/callback.js'

export interface ConnectOptions {
  /** Time limit of one request, in ms. @default 10000 */
  timeout?: number
  /** Extra headers sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>
}

/** A client of a remote peer's HTTP API. */
export interface RemoteSharedMem extends SharedMem {
  /** The remote peer's status. */
  status(callback?: Callback<PeerStatus>): Promise<PeerStatus>
}

/**
 * The limits a client checks before sending: none of its own on sizes and lengths (the peer
 * applies its configured ones and answers with their codes), a depth that is only there to
 * tell a cycle from a deep value.
 */
const CLIENT_LIMITS: ArgLimits = {
  maxKeyLength: Number.POSITIVE_INFINITY,
  maxValueBytes: Number.POSITIVE_INFINITY,
  maxValueDepth: 1000
}

/** The URL `connect()` uses when given none. */
export const DEFAULT_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}/sharedmem`

/**
 * Connects to a peer's HTTP API, e.g. `connect('http://127.0.0.1:3000/sharedmem')`.
 * Nothing is sent until the first call.
 */
export function connect(url: string = DEFAULT_URL, options: ConnectOptions = {}): RemoteSharedMem {
  let base: URL
  try {
    base = new URL(url.endsWith('/') ? url : `${url}/`)
  } catch {
    throw invalidArgument(`"${url}" is not a valid URL`)
  }
  const timeout = options.timeout ?? 10_000

  async function request<T>(verb: string, body?: unknown): Promise<T> {
    const target = new URL(verb, base)
    let response: Response
    try {
      response = await fetch(target, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout)
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new SharedMemError(ErrorCode.TIMEOUT, `${target} did not answer within ${timeout} ms`, { cause: err })
      }
      throw new SharedMemError(ErrorCode.REMOTE, `cannot reach ${target}`, { cause: err })
    }
    let payload: { result?: T; error?: { code?: unknown; message?: unknown } }
    try {
      payload = (await response.json()) as typeof payload
    } catch (err) {
      throw new SharedMemError(ErrorCode.REMOTE, `${target} answered ${response.status} without JSON`, { cause: err })
    }
    if (payload.error !== undefined || !response.ok) {
      const code = isErrorCode(payload.error?.code) ? payload.error.code : ErrorCode.REMOTE
      throw new SharedMemError(code, String(payload.error?.message ?? `${target} answered ${response.status}`))
    }
    return payload.result as T
  }

  // Every verb goes as POST with a JSON body, so argument types reach the server exactly as given.
  // The config is checked here first, by the embedded API's own rules: what JSON would silently
  // change (NaN → null, a Date → a string) or cannot carry (a cycle) is refused with the same code.
  const post =
    <C, T>(verb: string, check: (config: C) => unknown) =>
    (config: C, callback?: Callback<T>): Promise<T> =>
      settle(() => {
        check(config)
        return request<T>(verb, config ?? null)
      }, callback)

  return {
    save: post<SaveConfig, true>('save', (c) => saveArgs(c, CLIENT_LIMITS)),
    get: post<KeyConfig, Json>('get', (c) => keyArgs('get', c, CLIENT_LIMITS)),
    remove: post<KeyConfig, boolean>('remove', (c) => keyArgs('remove', c, CLIENT_LIMITS)),
    getArray: post<CollectionConfig, Record<string, Json>>('getArray', (c) =>
      collectionArgs('getArray', c, CLIENT_LIMITS)
    ),
    increment: post<CounterConfig, number>('increment', (c) => counterArgs('increment', c, CLIENT_LIMITS)),
    decrement: post<CounterConfig, number>('decrement', (c) => counterArgs('decrement', c, CLIENT_LIMITS)),
    getCounter: post<CounterConfig, number>('getCounter', (c) => counterArgs('getCounter', c, CLIENT_LIMITS)),
    status: (callback?: Callback<PeerStatus>) => settle(() => request<PeerStatus>('status'), callback)
  }
}
