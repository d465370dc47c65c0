/**
 * How the CLI tells of bootstrap addresses: a log line when one is reached or fails (and why),
 * and the words for a peer's sync state, which say "waiting for bootstrap" while it has met no one.
 */
import type { BootstrapAddressStatus, PeerStatus, SharedMemPeer } from '../contract.js'
import type { Log } from './log.js'

/** 'in sync', 'syncing', or 'waiting for bootstrap' (told of peers, it has met none yet). */
export function syncState(s: PeerStatus): string {
  if (s.bootstrap.waiting) return 'waiting for bootstrap'
  return s.sync.inSync ? 'in sync' : 'syncing'
}

/** One bootstrap address in a line: reached (by whom), or not and why. */
export function describeBootstrap(b: BootstrapAddressStatus): string {
  if (b.state === 'dialling') return `${b.address}: dialling`
  if (b.state === 'connected') {
    return b.problem === null ? `${b.address}: reached` : `${b.address}: reached, but ${b.message}`
  }
  const tries = b.failures === 1 ? '1 failed dial' : `${b.failures} failed dials`
  return `${b.address}: unreachable (${b.problem}): ${b.message}; ${tries}, still redialling`
}

/** Logs a `bootstrap` event: a failure or a surprise as a warning, a plain success as info. */
export function logBootstrap(log: Log, b: BootstrapAddressStatus): void {
  if (b.state === 'unreachable') {
    log.warn(`bootstrap ${b.address} unreachable (${b.problem}): ${b.message}; redialling, logged again if it changes`)
  } else if (b.problem !== null) {
    log.warn(`bootstrap ${b.address}: ${b.message}`)
  } else {
    log.info(`bootstrap ${b.address} reached (${b.peerId})`)
  }
}

/**
 * Logs what the bootstrap dials found so far, then each change. The dials made while createPeer
 * waited for a first clock reading were reported before anyone could listen: status() holds them.
 */
export function watchBootstrap(peer: Pick<SharedMemPeer, 'on' | 'status'>, log: Log): void {
  for (const b of peer.status().bootstrap.addresses) if (b.state !== 'dialling') logBootstrap(log, b)
  peer.on('bootstrap', (b) => logBootstrap(log, b))
}
