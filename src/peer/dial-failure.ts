/**
 * Why a dial failed, in words a user can act on: libp2p's errors name the layer that failed
 * (TCP, the encryption handshake, the timeout), not what the user got wrong.
 */
import { connect } from 'node:net'
import type { BootstrapProblem } from '../contract.js'

export interface DialFailure {
  problem: BootstrapProblem
  message: string
}

const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])

/** Tells why a dial failed from libp2p's error; `timeout` is the dial timeout, in ms. */
export function dialFailure(err: unknown, timeout: number): DialFailure {
  // A dial of several addresses fails with all their errors: the first tells as much as any.
  const inner = err instanceof AggregateError && err.errors.length > 0 ? err.errors[0] : err
  const { name, code, message } = (inner ?? {}) as { name?: string; code?: string | number; message?: string }
  if (code === 'ECONNREFUSED') return { problem: 'refused', message: 'connection refused: nothing listens there' }
  if (name === 'TimeoutError' || code === 'ETIMEDOUT') {
    return { problem: 'timeout', message: `no answer within ${timeout} ms (dialTimeout)` }
  }
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    return { problem: 'unreachable', message: `cannot reach it (${code}): ${String(message)}` }
  }
  // The TCP connection opened, but the other side's bytes made no sense: with a private swarm key
  // everything is enciphered, so a different key (or a key on one side only) looks exactly so.
  if (name === 'EncryptionFailedError' || name === 'UnexpectedEOFError') {
    return {
      problem: 'swarm-key',
      message: `the connection opened but the handshake failed (${String(message)}): its swarm key differs from this peer's (or only one side has one), or it is not a sharedmem peer`
    }
  }
  return { problem: 'error', message: `${name ?? 'Error'}: ${String(message)}` }
}

/**
 * The error to report for a bootstrap dial that timed out at `host`:`port`: a swarm-key error
 * when a raw connection there is sent bytes before it sends any. A peer with a private swarm key
 * sends its 24-byte nonce at once; when the keys differ, the enciphered handshake that follows
 * reads as garbage and may wait for bytes that never come, until the dial times out. A peer
 * without a key, or a server that says nothing, sends nothing first: the timeout stands.
 */
export async function explainTimeout(
  err: unknown,
  host: string,
  port: number,
  waitMs: number,
  signal: AbortSignal
): Promise<unknown> {
  if (signal.aborted) return err
  const spoke = await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port })
    const done = (answer: boolean): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', stop)
      socket.destroy()
      resolve(answer)
    }
    // A peer that stops does not wait for the probe.
    const stop = (): void => done(false)
    signal.addEventListener('abort', stop, { once: true })
    const timer = setTimeout(() => done(false), waitMs)
    socket.once('data', () => done(true))
    socket.once('error', () => done(false))
    socket.once('close', () => done(false))
  })
  if (!spoke) return err
  return Object.assign(new Error('the peer sent a private swarm nonce, then the handshake never finished'), {
    name: 'EncryptionFailedError'
  })
}
