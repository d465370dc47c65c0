/**
 * Anti-entropy sync. Its parts: the service (service.ts: lifecycle, periodic rounds, stats),
 * the rounds that run now (rounds.ts), the deferral policy (deferral.ts), the protocol steps as
 * plain functions (steps.ts) and the transfer of entries (transfer.ts), strung together by the
 * exchange (session.ts), run over a libp2p stream by the adapter (stream.ts, read-ahead.ts,
 * compress.ts), the protocol version (version.ts), and what a peer knows of the swarm's
 * members (membership.ts).
 */
export { DEFER_BUCKETS, MAX_DEFERRALS } from './deferral.js'
export { Sync, type SyncInit, type SyncNode } from './service.js'
export { SYNC_PROTOCOL } from './version.js'
