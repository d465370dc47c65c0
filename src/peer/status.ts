/**
 * `status()`: one reading of every part of a peer, assembled into the public PeerStatus,
 * with the peer's own belief of whether it is in sync.
 */
import type { PeerStatus } from '../contract.js'
import type { Gossip } from '../gossip/index.js'
import type { Persistence } from '../persist/index.js'
import type { Replica } from '../store/replica.js'
import type { Sync } from '../sync/index.js'
import type { Membership } from '../sync/membership.js'
import type { Rejections } from '../util/rejections.js'
import type { ClockGate } from './clock-gate.js'
import type { Dialer } from './dialer.js'
import type { Rendezvous } from './rendezvous.js'
import type { Verbs } from './verbs.js'

/** The parts of a peer that its status is read from. */
export interface StatusParts {
  peerId: string
  addresses: string[]
  swarm: string
  connections: number
  replica: Replica
  gossip: Gossip
  sync: Sync
  membership: Membership
  syncInterval: number
  verbs: Verbs
  rejections: Rejections
  rendezvous: Rendezvous | undefined
  persistence: Persistence | undefined
  gate: ClockGate
  dialer: Dialer
  /** Whether the peer became ready (readiness.ts). */
  ready: boolean
  startedAt: number
}

export function peerStatus(p: StatusParts): PeerStatus {
  // The digest as of now: values that expired since the last epoch leave it (as on every peer).
  p.replica.ageDigest()
  const size = p.replica.size()
  const bootstrap = p.dialer.bootstrap
  // Told of peers, it has met none: whatever it holds, it cannot know what the swarm holds.
  const met = p.dialer.everReached || p.connections > 0 || p.sync.stats.rounds > 0
  const waiting = bootstrap.length > 0 && !met
  const clock = p.gate.status()
  return {
    peerId: p.peerId,
    addresses: p.addresses,
    swarm: p.swarm,
    digest: p.replica.digest.root(),
    peers: p.gossip.peers(),
    connections: p.connections,
    ...size,
    operations: { ...p.verbs.operations },
    gossip: { ...p.gossip.stats },
    rejections: { ...p.rejections.counts },
    rendezvous: p.rendezvous?.dir ?? null,
    persistence: p.persistence === undefined ? undefined : { ...p.persistence.status },
    bootstrap: { waiting, addresses: bootstrap },
    sync: { ...p.sync.stats, inSync: !waiting && believesInSync(p), membership: p.membership.status() },
    clock,
    // A clock the swarm disagrees with makes saves and removes fail: not a peer to send traffic to.
    ready: p.ready && !clock.skewed,
    startedAt: p.startedAt
  }
}

function believesInSync(p: StatusParts): boolean {
  if (p.gossip.peers().length === 0) return true
  const { lastRoundInSync, lastSyncAt } = p.sync.stats
  return lastRoundInSync && p.replica.clock.now() - lastSyncAt < 3 * p.syncInterval
}
