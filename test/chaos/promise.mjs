/**
 * What each peer configuration promises about an acknowledged write (docs/operations.md,
 * docs/semantics.md), as a judgement on one op of a run's history: may it be missing at the end
 * without breaking that promise?
 *
 * - `durable` (`--data-dir --durable-writes`): acknowledged means fsynced; nothing acknowledged
 *   is ever lost, whatever kills the peer.
 * - `datadir` (`--data-dir`, default fsync): a kill -9 loses on that peer what no completed group
 *   commit took: writes acknowledged within the last fsync interval (plus a commit waiting behind
 *   a slow fsync) before the kill, unless gossip got them out first.
 * - `memory` (no data directory): a stop or kill loses what no other live peer holds: writes
 *   acknowledged just before it, and those made while the peer was cut off (partitioned or
 *   paused) from the others and not yet synced when it went down.
 * Every other disappearance is an anomaly.
 */

export const CONFIGS = ['durable', 'datadir', 'memory']

/** Arguments of `sharedmem peer` for each configuration (with the run's data directory `dir`). */
export function configArgs(config, dir) {
  if (config === 'memory') return []
  if (config === 'datadir') return ['--data-dir', dir]
  // Acknowledged means fsynced, at the next 20 ms group commit.
  return ['--data-dir', dir, '--durable-writes', '--fsync-interval', '20']
}

/**
 * The loss window of the default fsync interval (100 ms) and a commit that waits behind a slow
 * fsync on a busy disk: a write acknowledged this long before a kill may be gone with it.
 */
export const LOSS_WINDOW = 1_000

/**
 * @param {{ configs: string[], stops: Array<{ peer: number, at: number, how: 'kill' | 'term' }>,
 *   cuts: Array<{ peers: number[], from: number, to: number }>, syncInterval: number }} timeline
 * @returns {(op: { peer: number, at: number, done: number }) => boolean} whether an acknowledged
 *   op may be missing at the end under its peer's promise
 */
export function mayLose({ configs, stops, cuts, syncInterval }) {
  return (op) => {
    const config = configs[op.peer]
    if (config === 'durable') return false
    for (const stop of stops) {
      if (stop.peer !== op.peer || stop.at < op.at) continue
      const recent = op.done >= stop.at - LOSS_WINDOW
      if (config === 'datadir' && stop.how === 'kill' && recent) return true
      if (config !== 'memory') continue
      if (recent) return true
      // Cut off between the write and the stop (or too shortly before it for a sync round to run).
      const cut = cuts.some((c) => c.peers.includes(op.peer) && c.from <= stop.at && c.to + 2 * syncInterval >= op.at)
      if (cut) return true
    }
    return false
  }
}
