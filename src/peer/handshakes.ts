/**
 * Says why an inbound connection failed its handshake. libp2p drops such a connection with a line
 * in its own debug log only, so a peer dialled by one with another swarm key (or none, or by
 * something that is not a sharedmem peer) refused it without a word, while the dialling side was
 * told. The connection gater sees every inbound connection, with a swarm key or without, before
 * its handshake (`denyInboundConnection`) and once it is encrypted (`denyInboundEncryptedConnection`):
 * a connection aborted between the two failed its handshake.
 */
import type { MultiaddrConnection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { BootstrapProblem } from '../contract.js'
import { dialFailure } from './dial-failure.js'

/** One failed inbound handshake. */
export interface HandshakeFailure {
  /** The remote host (its address without the port, which changes at every connection). */
  host: string
  problem: BootstrapProblem
  message: string
  /** True the first time this host failed (since the host list was last full). */
  first: boolean
}

export class InboundHandshakes {
  /** Remote addresses of inbound connections whose handshake is under way. */
  private readonly pending = new WeakSet<Multiaddr>()
  private readonly hosts = new Set<string>()
  private readonly maxHosts: number
  private readonly listeners = new Set<(failure: HandshakeFailure) => void>()

  /** `maxHosts`: hosts remembered as told of; past it the list starts over (a scan must not grow it). */
  constructor(maxHosts: number) {
    this.maxHosts = maxHosts
  }

  /** Calls `listener` at each failed inbound handshake; returns its removal. */
  onFailure(listener: (failure: HandshakeFailure) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** For the gater's `denyInboundConnection`: an inbound connection starts its handshake. */
  started(maConn: MultiaddrConnection): void {
    const { remoteAddr } = maConn
    this.pending.add(remoteAddr)
    const abort = maConn.abort.bind(maConn)
    maConn.abort = (err: Error) => {
      if (this.pending.delete(remoteAddr)) this.failed(remoteAddr, err)
      abort(err)
    }
  }

  /** For the gater's `denyInboundEncryptedConnection`: the handshake succeeded. */
  encrypted(maConn: MultiaddrConnection): void {
    this.pending.delete(maConn.remoteAddr)
  }

  private failed(remoteAddr: Multiaddr, err: unknown): void {
    const host = hostOf(remoteAddr)
    const failure = dialFailure(err, 0)
    const first = !this.hosts.has(host)
    if (first) {
      if (this.hosts.size >= this.maxHosts) this.hosts.clear()
      this.hosts.add(host)
    }
    const message =
      failure.problem === 'swarm-key'
        ? `an inbound connection from ${host} failed its handshake: its swarm key differs from this peer's (or only one side has one), or it is not a sharedmem peer`
        : `an inbound connection from ${host} failed its handshake (${failure.message})`
    for (const listener of this.listeners) listener({ host, problem: failure.problem, message, first })
  }
}

function hostOf(addr: Multiaddr): string {
  try {
    return addr.toOptions().host
  } catch {
    return addr.toString()
  }
}
