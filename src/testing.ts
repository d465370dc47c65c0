/**
 * `sharedmem/testing`: helpers for tests of sharedmem itself and of code built on it, kept out
 * of the main entry because no application needs them. `Faults` injects faults into a peer
 * (`createPeer({ faults })`, and the CLI's hidden `--test-faults`); the constants are the bounds
 * of this release that no option sets, for tests that must reach past them.
 */
export {
  DEFAULT_ANNOUNCE_SENDER_BURST,
  DEFAULT_ANNOUNCE_SENDERS_TRACKED,
  DEFAULT_ANNOUNCED_ADDRS_PER_PEER,
  DEFAULT_ANNOUNCED_DIAL_BACKOFF,
  DEFAULT_ANNOUNCED_DIAL_BACKOFF_MAX,
  DEFAULT_ANNOUNCED_DIAL_BURST,
  DEFAULT_ANNOUNCED_DIAL_INTERVAL,
  DEFAULT_ANNOUNCED_DIALS_IN_FLIGHT,
  DEFAULT_ANNOUNCED_PEER_TTL,
  DEFAULT_ANNOUNCED_PEERS_REMEMBERED,
  DEFAULT_DIAL_FAILURES_REMEMBERED,
  DEFAULT_HTTP_DRAIN_BYTES,
  DEFAULT_START_CLOCK_WAIT,
  DEFAULT_SYNC_SCAN_BATCH,
  DEFAULT_SYNC_WINDOW
} from './constants.js'
export type { FaultInjection, FaultSettings } from './contract.js'
export { Faults } from './peer/faults.js'
