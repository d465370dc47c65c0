/**
 * The remote client: the same verbs as an embedded peer, over a standalone
 * peer's HTTP API. Errors the server reports come back as the same typed
 * SharedMemErrors; network failures are `ERR_REMOTE`, time-outs `ERR_TIMEOUT`.
 */
import { DEFAULT_HTTP_PORT } from '../constants.js'
import type {
  Callback,
  ConnectOptions,
  IterateConfig,
  Json,
  PeerStatus,
  RemoteSharedMem,
  SharedMem
} from '../contract.js'
import { ErrorCode, invalidArgument, isErrorCode, SharedMemError } from '../errors.js'
import type { ArgLimits } from '../peer/args.js'
import { settle } from '../util/callback.js'
import { iterateKeys } from '../util/iterate.js'
import { VERB_ENTRIES, type VERBS } from './verbs.js'

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
  // The config is checked here first, by the embedded API's own rules (the table's `check`).
  const verbs = Object.fromEntries(
    VERB_ENTRIES.map(([verb, spec]) => [
      verb,
      (config: unknown, callback?: Callback<unknown>): Promise<unknown> =>
        settle(() => {
          spec.check(config, CLIENT_LIMITS)
          return request(verb, config ?? null)
        }, callback)
    ])
  ) as { [V in keyof typeof VERBS]: SharedMem[V] }

  return {
    ...verbs,
    iterate: <T extends Json = Json>(config: IterateConfig) => iterateKeys<T>(verbs, config),
    status: (callback?: Callback<PeerStatus>) => settle(() => request<PeerStatus>('status'), callback)
  }
}
