/**
 * A timer of libp2p that outlives the node's stop. Its address manager updates the peer store a
 * second (a debounce) after a transport stops listening, and is not stopped with the node: a
 * stopped peer's process stayed up for that second with nothing left to do. This reaches into a
 * member that is private in the type declarations (the version is pinned); test/peer/stop.spec.ts
 * fails if an upgrade moves it, and without it the timer is left as it is.
 */
import type { SharedMemNode } from './node.js'

interface AddressManagerInternals {
  components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } }
}

/** Cancels the address update a stopped `node` left pending. Call once the node has stopped. */
export function cancelPendingAddressUpdate(node: SharedMemNode): void {
  try {
    ;(node as unknown as AddressManagerInternals).components?.addressManager?._updatePeerStoreAddresses?.stop?.()
  } catch {
    // A libp2p without that member: nothing to cancel.
  }
}
