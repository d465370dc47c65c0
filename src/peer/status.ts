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
  startedAt: number
}

export function peerStatus(p: StatusParts): PeerStatus {
  // The digest as of now: values that expired since the last epoch leave it (as on every peer).
  p.replica.ageDigest()
  const size = p.replica.size()
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
    sync: { ...p.sync.stats, inSync: believesInSync(p), membership: p.membership.status() },
    clock: p.gate.status(),
    startedAt: p.startedAt
  }
}

function believesInSync(p: StatusParts): boolean {
  if (p.gossip.peers().length === 0) return true
  const { lastRoundInSync, lastSyncAt } = p.sync.stats
  return lastRoundInSync && p.replica.clock.now() - lastSyncAt < 3 * p.syncInterval
}
