/**
 * What a peer knows of each bootstrap address: the peer reached there, and what the last dial
 * found (reached, or why not: dial-failure.ts). A change of state or problem is reported once, so
 * that a wrong address or swarm key is said out loud instead of being retried in silence.
 */
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { BootstrapAddressStatus } from '../contract.js'
import { dialFailure } from './dial-failure.js'

/** The outcome of one dial: the peer reached, or the error. */
export type DialResult = { peer: PeerId } | { err: unknown }

interface Entry {
  addr: Multiaddr
  status: BootstrapAddressStatus
  /** The peer reached there, whose connection tells whether to redial. */
  peer: PeerId | undefined
}

export class BootstrapAddresses {
  private readonly entries: Entry[]
  private readonly dialTimeout: number
  private readonly onChange: (status: BootstrapAddressStatus) => void

  constructor(addrs: Multiaddr[], dialTimeout: number, onChange: (status: BootstrapAddressStatus) => void = () => {}) {
    this.dialTimeout = dialTimeout
    this.onChange = onChange
    this.entries = addrs.map((addr) => ({
      addr,
      peer: undefined,
      status: { address: addr.toString(), state: 'dialling', peerId: null, problem: null, message: null, failures: 0 }
    }))
  }

  /** Each address as last dialled. */
  get status(): BootstrapAddressStatus[] {
    return this.entries.map((e) => ({ ...e.status }))
  }

  /** The addresses to dial now: those whose peer is not connected (or was never reached). */
  toDial(connected: (peer: PeerId) => boolean): Multiaddr[] {
    return this.entries.filter((e) => e.peer === undefined || !connected(e.peer)).map((e) => e.addr)
  }

  /** Takes in a dial's outcome; reports a change of state or problem. */
  dialled(addr: Multiaddr, result: DialResult): void {
    const entry = this.entries.find((e) => e.addr === addr)
    if (entry === undefined) return
    const before = entry.status
    let next: BootstrapAddressStatus
    if ('peer' in result) {
      entry.peer = result.peer
      const found = result.peer.toString()
      const named = addr.getPeerId()
      // libp2p connects whoever answers at that address: a stale /p2p/ id (a peer restarted without
      // its identity) still works, so the connection is kept, and the user is told.
      const other = named !== null && named !== found
      next = {
        ...before,
        state: 'connected',
        peerId: found,
        problem: other ? 'peer-id' : null,
        message: other ? `the address names ${named}, but the peer there is ${found}` : null,
        failures: 0
      }
    } else {
      const { problem, message } = dialFailure(result.err, this.dialTimeout)
      next = { ...before, state: 'unreachable', problem, message, failures: before.failures + 1 }
    }
    entry.status = next
    if (next.state !== before.state || next.problem !== before.problem) this.onChange({ ...next })
  }
}
