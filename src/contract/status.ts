/** What `peer.status()` reports, part by part. */

/** What a peer reports about itself. */
export interface PeerStatus {
  peerId: string
  /** Multiaddrs (with /p2p/<peer id>) other peers can bootstrap from. */
  addresses: string[]
  swarm: string
  /** Fingerprint of everything the replica holds (16 hex digits): equal on two peers ⇔ identical replicas. */
  digest: string
  /** Peer ids of the connected peers that have joined this swarm (share its gossip topic). */
  peers: string[]
  /** Open libp2p connections. */
  connections: number
  /** Entries holding a value, across all collections (an expired one counts until it is collected). */
  entries: number
  /** Tombstones not yet collected. */
  dead: number
  collections: number
  counters: number
  /** Reads (get, getArray, getCounter and their Sync forms) and writes (save, remove, increment, decrement) served. */
  operations: { reads: number; writes: number }
  /** Gossip figures, including a replication lag estimate (`lagMs`). */
  gossip: GossipStats
  /** With a data directory: what was loaded at start, and the state of the log. */
  persistence?: PersistenceStatus
  /** Refusals of network input by `source:reason` (e.g. `gossip:decode`, `gossip:clock-skew`). */
  rejections: Record<string, number>
  /** The bootstrap addresses given, whether each was reached, and whether this peer still waits for one. */
  bootstrap: BootstrapStatus
  /** Anti-entropy sync: rounds, figures, and whether this peer believes itself in sync. */
  sync: SyncStatus & {
    /**
     * No peers (and none expected: no bootstrap addresses, or one was reached), or the last
     * round (recent) found the replicas identical. False while `bootstrap.waiting`.
     */
    inSync: boolean
    /** The swarm's members as this peer knows them: the collection watermark, retired members, refused rounds. */
    membership: MembershipStatus
  }
  /** The rendezvous directory of this swarm on this host, or null when same-host discovery is off. */
  rendezvous: string | null
  /** This peer's wall clock against its swarm's (docs/semantics.md, Clock skew). */
  clock: ClockStatus
  /**
   * Whether this peer can serve truthfully: `ready()` has resolved (its first complete sync round
   * ended, or it had no one to meet), and its clock agrees with the swarm's (`clock.skewed` false).
   * HTTP `/readyz` answers 503 while it is false.
   */
  ready: boolean
  /** ms since the epoch. */
  startedAt: number
}

/** What `status().bootstrap` reports. */
export interface BootstrapStatus {
  /**
   * True while bootstrap addresses were given and this peer has met no peer yet (none reached,
   * none connected to it): it cannot know what the swarm holds, so `sync.inSync` is false.
   */
  waiting: boolean
  /** Each bootstrap address, as last dialled (redialled every `redialInterval` while not connected). */
  addresses: BootstrapAddressStatus[]
}

/** Why a bootstrap address was not reached, or reached another peer than the one it names. */
export type BootstrapProblem =
  /** Nothing listens there (connection refused). */
  | 'refused'
  /** No answer within `dialTimeout`. */
  | 'timeout'
  /** The host or network cannot be reached, or the name does not resolve. */
  | 'unreachable'
  /** The connection opened but the handshake failed: the swarm keys differ (or one side has none). */
  | 'swarm-key'
  /** Reached, but the peer there is not the one the address names (`/p2p/<id>`); kept connected. */
  | 'peer-id'
  /** Any other failure (`message` says which). */
  | 'error'

/** One bootstrap address, as `status().bootstrap.addresses` and the `bootstrap` event report it. */
export interface BootstrapAddressStatus {
  /** The address as a multiaddr. */
  address: string
  /** `dialling`: not reached yet (first dial under way); `connected`; `unreachable`: the last dial failed. */
  state: 'dialling' | 'connected' | 'unreachable'
  /** Peer id of the peer reached there; null before it was reached. */
  peerId: string | null
  /** Why the last dial failed (or `peer-id`: the peer reached is another than the address names); null when none. */
  problem: BootstrapProblem | null
  /** The problem in words, for a log; null when none. */
  message: string | null
  /** Dials that failed since it was last reached. */
  failures: number
}

/** This peer's wall clock against its swarm's, as `status().clock` reports it. */
export interface ClockStatus {
  /**
   * True while this clock lies more than `maxClockSkew` from the swarm's, either way, or its
   * latest timestamp that far ahead of it (`stampLeadMs`): its saves and removes fail with
   * `ERR_CLOCK_UNSYNCED` (they would be refused, or lose). Fix the host's clock; the flag clears
   * at the next measurement.
   */
  skewed: boolean
  /**
   * How far this wall clock is ahead of the swarm's, in ms (negative: behind): the median of
   * its lead over each peer measured and its own (zero). 0 with no peer measured.
   */
  offsetMs: number
  /** Swarm peers whose clock was measured (each once per `clockProbeInterval`). */
  peers: number
  /**
   * How far the latest timestamp this peer issued or accepted lies ahead of its wall clock, in ms
   * (0: not ahead). Beyond `maxClockSkew` (the host's clock was set back while the peer ran) its
   * next stamps would be refused too: `skewed` is then true, and saves and removes fail with
   * `ERR_CLOCK_UNSYNCED` until the wall clock catches up or the peer restarts.
   */
  stampLeadMs: number
  /** The configured `maxClockSkew`, in ms. */
  maxSkewMs: number
  /**
   * With a data directory: the latest stamp of a stored write restored while it lay more than
   * `maxClockSkew` ahead of this clock (ms since the epoch; 0: none). The clock does not run that
   * far ahead for it; until the wall clock is within `maxClockSkew` of it, saves and removes of a
   * key holding such a write fail with `ERR_CLOCK_UNSYNCED`.
   */
  restoredAhead: number
}

/** Counters of what gossip did. */
export interface GossipStats {
  messagesOut: number
  /** Updates not published because no peer was connected (sync delivers them). */
  unsentIsolated: number
  messagesIn: number
  /** Received messages that failed to decode, or entries refused (clock skew). */
  rejected: number
  /** Received updates that changed the replica. */
  applied: number
  /** Publishes that failed (logged; the sync protocol repairs what they carried). */
  publishErrors: number
  /** Moving average of how old remote writes are when they arrive here, in ms (clock offsets included). */
  lagMs: number
}

/** With a data directory: what was loaded at start, and the state of the log. */
export interface PersistenceStatus {
  dataDir: string
  loadedEntries: number
  loadMs: number
  droppedBytes: number
  /**
   * Entries and counter slots found unreadable while loading and left out, so that one bad entry
   * cannot keep the peer from starting (other peers may still hold a good version of them).
   */
  skipped: number
  /** Whole records found unreadable while loading and left out (damage in the middle of a file). */
  skippedRecords: number
  /** Why the first unreadable entry or record was left out; '' when none was. */
  skipReason: string
  /** Bytes in the current log since the last snapshot. */
  logBytes: number
  snapshots: number
  /** When buffered updates were last written and fsynced (ms since the epoch; 0 = never). */
  lastFsyncAt: number
}

/** What the sync service counts. */
export interface SyncStatus {
  /** When a round last completed (ms since the epoch; 0 = never). */
  lastSyncAt: number
  /** Whether the last round found the replicas identical. */
  lastRoundInSync: boolean
  rounds: number
  failures: number
  /** Entries sent and received by sync since start. */
  entriesSent: number
  entriesReceived: number
  /** Rounds that compared digests and deferred the transfer (writes were arriving). */
  deferred: number
  /** Bytes of sync frames sent and received since start. */
  bytesSent: number
  bytesReceived: number
}

/** What `status().sync.membership` reports. */
export interface MembershipStatus {
  /** Members known and not retired, this peer included. */
  members: number
  /** Members retired (silent for `memberTimeout`): rounds with them are refused. */
  retired: string[]
  /** Dead entries written before this (ms since the epoch) minus the tombstone TTL may be collected; 0: none yet. */
  watermark: number
  /** Rounds refused because the other side was retired here, or had heard from a retired member. */
  refused: number
}
