/**
 * libp2p reports a failed listen as one multi-line error: advice about its own configuration, then
 * each address with its cause's stack. A user needs one line: which port, and what to change.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { AddressInUseError, ErrorCode, SharedMemError } from '../errors.js'

/** The lines of libp2p's UnsupportedListenAddressesError that name an address: `  /ip4/…: Error: listen EADDRINUSE: …`. */
const FAILED_ADDRESS = /^\s+(\/\S+): (?:\w*Error: )?(.*)$/gm

/**
 * The error of a listen that failed, in one line: {@link AddressInUseError} for a port another
 * process holds, else `ERR_INVALID_ADDRESS` with the first cause. Any other error is returned as it is.
 */
export function listenError(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'UnsupportedListenAddressesError') return err
  const failed = [...err.message.matchAll(FAILED_ADDRESS)].map(([, address, reason]) => ({ address, reason }))
  const busy = failed.find((f) => f.reason.includes('EADDRINUSE'))
  if (busy !== undefined) {
    const { host, port } = hostPort(busy.address)
    return new AddressInUseError(host, port, 'give the listen option another port', { cause: err })
  }
  const first = failed[0]
  if (first === undefined) return err
  return new SharedMemError(ErrorCode.INVALID_ADDRESS, `cannot listen on ${first.address}: ${first.reason}`, {
    cause: err
  })
}

function hostPort(address: string): { host: string; port: number } {
  const { host, port } = multiaddr(address).toOptions()
  return { host, port }
}
