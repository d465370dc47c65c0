/**
 * gossipsub as the swarm runs it: forwarding that leaves out the peers that have a message
 * already, and a stop that clears its heartbeat.
 *
 * A forward leaves out two kinds of peers. (1) Those the message's publisher sent it to itself:
 * a publisher sends each message to every peer it is connected to (flood publish), and in a swarm
 * where every peer is connected to every other (announcements make it so) a forward only repeats
 * what the receiver has. Who is connected to whom comes from the peers' own announcements
 * (neighbours.ts). Such a peer is told the message's id by IHAVE on the next heartbeat instead,
 * so one that did not get the publisher's copy after all (a connection that just closed) asks for
 * it (IWANT) within a heartbeat, and sync repairs the rest. (2) Those that said IDONTWANT for it
 * (gossipsub v1.2). @chainsafe/libp2p-gossipsub 14 records these but forwards to those peers all
 * the same; upstream enforces them only in its successor, @libp2p/gossipsub (libp2p/js-libp2p#3595).
 * A forward also waits for the event loop to read the sockets once more: in a full mesh every
 * peer gets each message from its writer at about the same time, so the others' IDONTWANTs
 * arrive while it is being merged, after gossipsub would have forwarded (docs/benchmarks.md).
 *
 * This reaches into members that are private in the type declarations (the
 * version is pinned); test/peer/gossipsub.spec.ts and test/peer/stop.spec.ts fail if
 * an upgrade moves them, and without them gossipsub is left as it is.
 */
import { createHash } from 'node:crypto'
import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { fromString } from 'uint8arrays/from-string'
import { GOSSIP_IHAVE_MAX_IDS } from '../constants.js'

/**
 * The id of an unsigned message: SHA-256 of every byte of it, so that two distinct
 * messages never share an id (gossipsub drops a message whose id it has seen as a
 * duplicate: an id over part of a message lost honest writes that differed only in
 * their middle). Signed messages keep gossipsub's id (sender and sequence number).
 */
export function messageId(msg: { data: Uint8Array }): Uint8Array {
  return createHash('sha256').update(msg.data).digest()
}

type Forward = (
  msgIdStr: string,
  rawMsg: { topic: string; data?: Uint8Array },
  propagationSource?: string,
  excludePeers?: Set<string>
) => void

/** An IHAVE control message as gossipsub queues it. */
interface IHave {
  topicID: string
  messageIDs: Uint8Array[]
}

/** The members of a GossipSub instance this relies on. */
export interface ForwardingInternals {
  forwardMessage: Forward
  /** Peer id → ids of the messages it said it does not want (and when). */
  idontwants: Map<string, Map<string, number>>
  isStarted(): boolean
  /** Topic → the peers of this peer's mesh for it (those a forward goes to). */
  mesh: Map<string, Set<string>>
  /** Queues IHAVEs for a peer, sent at the end of the next heartbeat. */
  pushGossip(peer: string, ihave: IHave[]): void
  heartbeat(): Promise<void>
}

/** Whether `service` has the members {@link forwardSparingly} needs. */
export function hasForwardingInternals(service: unknown): service is ForwardingInternals {
  const s = service as Partial<ForwardingInternals>
  return (
    typeof s.forwardMessage === 'function' &&
    s.idontwants instanceof Map &&
    typeof s.isStarted === 'function' &&
    s.mesh instanceof Map &&
    typeof s.pushGossip === 'function' &&
    typeof s.heartbeat === 'function'
  )
}

/**
 * The peers a message's publisher sent it to itself, as far as this peer knows (neighbours.ts),
 * and the publisher; undefined when the message does not say who published it.
 */
export type DirectRecipients = (data: Uint8Array) => { publisher: string; peers: Iterable<string> } | undefined

/**
 * Makes `service` forward a message (later, see above) only to peers that did not say IDONTWANT
 * for it and that its publisher did not send it to (`direct`); those are told its id by IHAVE on
 * the next heartbeat.
 */
export function forwardSparingly(service: ForwardingInternals, direct?: DirectRecipients): void {
  const forward = service.forwardMessage.bind(service)
  const heartbeat = service.heartbeat.bind(service)
  /** Peer → topic → ids of the messages not forwarded to it since the last heartbeat, as gossipsub's id strings. */
  const lazy = new Map<string, Map<string, string[]>>()
  service.forwardMessage = (msgIdStr, rawMsg, propagationSource, excludePeers) => {
    const send = (): void => {
      if (!service.isStarted()) return
      const exclude = new Set(excludePeers)
      for (const [peer, unwanted] of service.idontwants) if (unwanted.has(msgIdStr)) exclude.add(peer)
      const sent = rawMsg.data === undefined ? undefined : direct?.(rawMsg.data)
      if (sent !== undefined) {
        exclude.add(sent.publisher)
        // Only mesh peers: the others would not have been forwarded to anyway.
        const mesh = service.mesh.get(rawMsg.topic)
        for (const peer of sent.peers) {
          if (exclude.has(peer) || peer === propagationSource || mesh?.has(peer) !== true) continue
          exclude.add(peer)
          remember(peer, rawMsg.topic, msgIdStr)
        }
      }
      forward(msgIdStr, rawMsg, propagationSource, exclude)
    }
    // The first turn ends this poll phase; the second comes after the next one has read the sockets.
    setImmediate(() => setImmediate(send))
  }
  const remember = (peer: string, topic: string, id: string): void => {
    const topics = lazy.get(peer) ?? new Map<string, string[]>()
    lazy.set(peer, topics)
    const ids = topics.get(topic)
    if (ids === undefined) topics.set(topic, [id])
    else if (ids.length < GOSSIP_IHAVE_MAX_IDS) ids.push(id)
  }
  // Queued before gossipsub's own heartbeat, which sends them with its own gossip at its end.
  service.heartbeat = async () => {
    // An id left out for several peers is decoded once.
    const decoded = new Map<string, Uint8Array>()
    const bytesOf = (id: string): Uint8Array => {
      const bytes = decoded.get(id) ?? fromString(id, 'base64')
      decoded.set(id, bytes)
      return bytes
    }
    for (const [peer, topics] of lazy) {
      const ihave: IHave[] = []
      for (const [topicID, ids] of topics) ihave.push({ topicID, messageIDs: ids.map(bytesOf) })
      service.pushGossip(peer, ihave)
    }
    lazy.clear()
    await heartbeat()
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

/**
 * `gossipsub(init)`, with {@link forwardSparingly} (given `direct`) and {@link clearHeartbeatOnStop}
 * applied to the service it builds.
 */
export function forwardingGossipsub(
  init: Parameters<typeof gossipsub>[0],
  direct?: DirectRecipients
): ReturnType<typeof gossipsub> {
  const build = gossipsub(init)
  return (components) => {
    const service = build(components)
    if (hasForwardingInternals(service)) forwardSparingly(service, direct)
    if (hasHeartbeatInternals(service)) clearHeartbeatOnStop(service)
    return service
  }
}
