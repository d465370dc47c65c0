/**
 * Typed errors with stable codes. Callers (and tests) branch on `code`, never on
 * the message, which may be reworded. The HTTP layer maps each code to a status
 * through {@link HTTP_STATUS}, so an embedded peer and a remote client throw the
 * same errors.
 */

export const ErrorCode = {
  /** A required field is missing or has the wrong type. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** The value is not JSON-compatible (function, symbol, undefined, cycle, NaN, class instance …). */
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  /** The encoded value is larger than `maxValueBytes`. */
  VALUE_TOO_LARGE: 'ERR_VALUE_TOO_LARGE',
  /** The value nests deeper than `maxValueDepth`. */
  VALUE_TOO_DEEP: 'ERR_VALUE_TOO_DEEP',
  /** A collection, key or counter name is empty or longer than `maxKeyLength`. */
  INVALID_NAME: 'ERR_INVALID_NAME',
  /** A listen or bootstrap address cannot be parsed. */
  INVALID_ADDRESS: 'ERR_INVALID_ADDRESS',
  /** A port to listen on (p2p or HTTP) is held by another process: the message names the port and how to choose another. */
  ADDRESS_IN_USE: 'ERR_ADDRESS_IN_USE',
  /** A save would add a key beyond `maxEntries`: remove keys, or raise the cap. */
  STORE_FULL: 'ERR_STORE_FULL',
  /** An increment or decrement would take a counter beyond the safe integers (±(2^53 − 1)). */
  COUNTER_OVERFLOW: 'ERR_COUNTER_OVERFLOW',
  /** The peer is stopped (or was never started). */
  STOPPED: 'ERR_STOPPED',
  /** Bytes received from the network do not decode as a valid message. */
  DECODE: 'ERR_DECODE',
  /** A remote timestamp is further in the future than `maxClockSkew` allows. */
  CLOCK_SKEW: 'ERR_CLOCK_SKEW',
  /**
   * A write refused because this peer's clock disagrees with its swarm's by more than
   * `maxClockSkew` (`status().clock.skewed`), or because the key's stored write is stamped
   * that far ahead of this clock: the swarm would refuse the write, or it would lose.
   */
  CLOCK_UNSYNCED: 'ERR_CLOCK_UNSYNCED',
  /** An operation did not finish in time. */
  TIMEOUT: 'ERR_TIMEOUT',
  /** The identity file cannot be read or written. */
  IDENTITY: 'ERR_IDENTITY',
  /** The rendezvous directory (same-host discovery) cannot be created, read or written, or is not this user's. */
  RENDEZVOUS: 'ERR_RENDEZVOUS',
  /** Another running process holds the data directory (`dataDir`): two on one directory would lose writes. */
  DATA_DIR_LOCKED: 'ERR_DATA_DIR_LOCKED',
  /** The request body is too large (HTTP). */
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  /** The request body is not valid JSON (HTTP). */
  INVALID_JSON: 'ERR_INVALID_JSON',
  /** No such endpoint or verb (HTTP). */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** Missing or wrong bearer token (HTTP). */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** A `/watch` subscriber fell too far behind the changes and was dropped (sent in the stream's last event). */
  SLOW_CONSUMER: 'ERR_SLOW_CONSUMER',
  /** The remote peer could not be reached or answered something unexpected. */
  REMOTE: 'ERR_REMOTE',
  /** Anything else: a bug. */
  INTERNAL: 'ERR_INTERNAL'
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** HTTP status for each error code; anything not listed is a 500. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_INVALID_VALUE: 400,
  ERR_VALUE_TOO_LARGE: 413,
  ERR_VALUE_TOO_DEEP: 400,
  ERR_INVALID_NAME: 400,
  ERR_INVALID_ADDRESS: 400,
  ERR_ADDRESS_IN_USE: 500,
  ERR_STORE_FULL: 507,
  ERR_COUNTER_OVERFLOW: 400,
  ERR_STOPPED: 503,
  ERR_DECODE: 400,
  ERR_CLOCK_SKEW: 400,
  ERR_CLOCK_UNSYNCED: 503,
  ERR_TIMEOUT: 504,
  ERR_IDENTITY: 500,
  ERR_RENDEZVOUS: 500,
  ERR_DATA_DIR_LOCKED: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_INVALID_JSON: 400,
  ERR_NOT_FOUND: 404,
  ERR_UNAUTHORIZED: 401,
  ERR_SLOW_CONSUMER: 503,
  ERR_REMOTE: 502,
  ERR_INTERNAL: 500
}

/** The one error class sharedmem throws. Branch on {@link SharedMemError.code}. */
export class SharedMemError extends Error {
  override readonly name = 'SharedMemError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/**
 * A port held by another process. `host` and `port` say which, so that each entry point names its
 * own way to choose another (`createPeer`'s `listen`, the CLI's `--listen`, `-p` or `--http`).
 */
export class AddressInUseError extends SharedMemError {
  readonly host: string
  readonly port: number

  /** `change` says how to choose another port, e.g. "choose another with --listen <port>". */
  constructor(host: string, port: number, change: string, options?: { cause?: unknown }) {
    super(
      ErrorCode.ADDRESS_IN_USE,
      `port ${port} on ${host} is in use by another process: ${change} (0 picks a free one)`,
      options
    )
    this.host = host
    this.port = port
  }
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode))

/** True for a string that is one of the stable error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code)
}

export const invalidArgument = (message: string): SharedMemError =>
  new SharedMemError(ErrorCode.INVALID_ARGUMENT, message)
export const invalidValue = (message: string): SharedMemError => new SharedMemError(ErrorCode.INVALID_VALUE, message)
export const invalidName = (message: string): SharedMemError => new SharedMemError(ErrorCode.INVALID_NAME, message)
export const decodeError = (message: string, cause?: unknown): SharedMemError =>
  new SharedMemError(ErrorCode.DECODE, message, { cause })
export const stoppedError = (): SharedMemError => new SharedMemError(ErrorCode.STOPPED, 'the sharedmem peer is stopped')
