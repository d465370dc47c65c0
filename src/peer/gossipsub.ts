/**
 * gossipsub as the swarm runs it: forwarding that honours IDONTWANT, and a stop that
 * clears its heartbeat.
 *
 * A peer that receives a large message tells its other mesh peers it does not want
 * it again (IDONTWANT, gossipsub v1.2). @chainsafe/libp2p-gossipsub 14 records these
 * but forwards to those peers all the same; upstream enforces them only in its
 * successor, @libp2p/gossipsub (libp2p/js-libp2p#3595). Here a forward leaves out
 * every peer that said so. It also waits for the event loop to read the sockets
 * once more: in a full mesh every peer gets each message from its writer at about
 * the same time, so the others' IDONTWANTs arrive while it is being merged, after
 * gossipsub would have forwarded. It spares each receiver the copies it would only
 * decrypt, hash and drop (docs/benchmarks.md).
 *
 * This reaches into members that are private in the type declarations (the
 * version is pinned); test/peer/gossipsub.spec.ts and test/peer/stop.spec.ts fail if
 * an upgrade moves them, and without them gossipsub is left as it is.
 */
import { createHash } from 'node:crypto'
import { gossipsub } from '@chainsafe/libp2p-gossipsub'

/**
 * The id of an unsigned message: SHA-256 of every byte of it, so that two distinct
 * messages never share an id (gossipsub drops a message whose id it has seen as a
 * duplicate: an id over part of a message lost honest writes that differed only in
 * their middle). Signed messages keep gossipsub's id (sender and sequence number).
 */
export function messageId(msg: { data: Uint8Array }): Uint8Array {
  return createHash('sha256').update(msg.data).digest()
}

type Forward = (msgIdStr: string, rawMsg: unknown, propagationSource?: string, excludePeers?: Set<string>) => void

/** The members of a GossipSub instance this relies on. */
export interface ForwardingInternals {
  forwardMessage: Forward
  /** Peer id → ids of the messages it said it does not want (and when). */
  idontwants: Map<string, Map<string, number>>
  isStarted(): boolean
}

/** Whether `service` has the members {@link honourIdontwant} needs. */
export function hasForwardingInternals(service: unknown): service is ForwardingInternals {
  const s = service as Partial<ForwardingInternals>
  return typeof s.forwardMessage === 'function' && s.idontwants instanceof Map && typeof s.isStarted === 'function'
}

/** Makes `service` forward a message (later, see above) only to peers that did not say IDONTWANT for it. */
export function honourIdontwant(service: ForwardingInternals): void {
  const forward = service.forwardMessage.bind(service)
  service.forwardMessage = (msgIdStr, rawMsg, propagationSource, excludePeers) => {
    const send = (): void => {
      if (!service.isStarted()) return
      const exclude = new Set(excludePeers)
      for (const [peer, unwanted] of service.idontwants) if (unwanted.has(msgIdStr)) exclude.add(peer)
      forward(msgIdStr, rawMsg, propagationSource, exclude)
    }
    // The first turn ends this poll phase; the second comes after the next one has read the sockets.
    setImmediate(() => setImmediate(send))
  }
}

/** The member of a GossipSub instance {@link clearHeartbeatOnStop} relies on. */
interface HeartbeatInternals {
  status: { heartbeatTimeout?: ReturnType<typeof setTimeout> }
  stop(): Promise<void>
}

function hasHeartbeatInternals(service: unknown): service is HeartbeatInternals {
  const s = service as Partial<HeartbeatInternals>
  return typeof s.status === 'object' && s.status !== null && typeof s.stop === 'function'
}

/**
 * Makes `service` clear its pending heartbeat as it stops. gossipsub 14 replaces its status on
 * stop and so drops that timer without clearing it: a stopped peer's process stayed up until the
 * next heartbeat (a heartbeat interval, 1 s) with nothing left to do.
 */
export function clearHeartbeatOnStop(service: HeartbeatInternals): void {
  const stop = service.stop.bind(service)
  service.stop = async () => {
    clearTimeout(service.status.heartbeatTimeout)
    await stop()
  }
}

/** `gossipsub(init)`, with {@link honourIdontwant} and {@link clearHeartbeatOnStop} applied to the service it builds. */
export function forwardingGossipsub(init: Parameters<typeof gossipsub>[0]): ReturnType<typeof gossipsub> {
  const build = gossipsub(init)
  return (components) => {
    const service = build(components)
    if (hasForwardingInternals(service)) honourIdontwant(service)
    if (hasHeartbeatInternals(service)) clearHeartbeatOnStop(service)
    return service
  }
}
