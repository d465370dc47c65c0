/** The events of a peer and what each carries. */
import type { BootstrapAddressStatus } from './status.js'
import type { Json } from './verbs.js'

/** Where a change came from: this peer's API, or another peer. */
export type ChangeOrigin = 'local' | 'remote'

/** A visible change of the replica, as delivered to `change` listeners. */
export type ChangeEvent =
  | {
      readonly type: 'save'
      readonly collection: string
      readonly key: string
      readonly value: Json
      /** Expiry deadline in ms since the epoch; 0 means never. */
      readonly expiresAt: number
      readonly origin: ChangeOrigin
      /** Peer id of the writer. */
      readonly node: string
    }
  | {
      readonly type: 'remove'
      readonly collection: string
      readonly key: string
      readonly value: null
      readonly origin: ChangeOrigin
      readonly node: string
    }
  | {
      readonly type: 'counter'
      readonly counter: string
      /** The counter's new total. */
      readonly value: number
      readonly origin: ChangeOrigin
    }

/** A refusal of hostile or malformed network input, as reported to `reject` listeners. */
export interface RejectEvent {
  /** Where it came from (`connection`: an inbound connection that failed its handshake). */
  source: 'gossip' | 'sync' | 'connection'
  /** A stable reason: `decode`, `clock-skew`, `forged-origin`; for a connection, `swarm-key`, `timeout`, `error`. */
  reason: string
  /** Details for the log. */
  message: string
  /** True the first time this source and reason occur. */
  first: boolean
}

/** One finished sync round, as reported to `sync` listeners. */
export interface SyncRoundEvent {
  /** The other side's peer id. */
  peer: string
  role: 'initiator' | 'responder'
  durationMs: number
  /** True when the replicas were identical at the start of the round. */
  inSync: boolean
  /** Buckets found different. */
  buckets: number
  /** Entries and counter slots sent and received. */
  sent: number
  received: number
  /** Received entries refused (clock skew). */
  rejected: number
  /** Digests were compared but the transfer was deferred (writes were arriving): nothing was repaired. */
  deferred: boolean
  /** Why this side refused the round (quarantine, docs/semantics.md), if it did. */
  refused?: string
  /** The round ran to its end: each side then holds the other's state as of the round's start. */
  complete: boolean
}

/** Progress of a long sync round (after each frame of entries). */
export interface SyncProgressEvent {
  peer: string
  sent: number
  received: number
}

/** Events of a peer, for `peer.on(name, listener)`. */
export interface PeerEvents {
  /** A key was saved or removed, or a counter changed, here or on another peer. */
  change: [event: ChangeEvent]
  /** A peer connected (its peer id). */
  'peer:join': [peerId: string]
  /** A peer disconnected (its peer id). */
  'peer:leave': [peerId: string]
  /** Something received from the network was refused; `first` is true the first time for this reason. */
  reject: [event: RejectEvent]
  /** A sync round finished. */
  sync: [event: SyncRoundEvent]
  /** A long sync round made progress (after each frame of entries). */
  'sync:progress': [event: SyncProgressEvent]
  /**
   * This clock began or ceased to disagree with the swarm's by more than `maxClockSkew`: while
   * `skewed`, saves and removes are refused (`ERR_CLOCK_UNSYNCED`).
   */
  clock: [event: ClockEvent]
  /**
   * A bootstrap address was reached, or could not be reached and why (or reached another peer
   * than it names): once each time its state or problem changes, not at every redial. Dials made
   * before `createPeer` resolved were reported before a listener could be added: read them from
   * `status().bootstrap`.
   */
  bootstrap: [event: BootstrapAddressStatus]
}

/** A change of this peer's clock verdict (see `status().clock`). */
export interface ClockEvent {
  /** True while this clock's lead over the swarm's is beyond `maxClockSkew`, either way. */
  skewed: boolean
  /** This clock's lead over the swarm's, in ms (negative: behind). */
  offsetMs: number
  /** Peers whose clock the verdict is drawn from. */
  peers: number
}
