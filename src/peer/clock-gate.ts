/**
 * The peer's side of the clock: the watch that logs when this clock leaves or rejoins the
 * swarm's, the gate that refuses stamped writes while it disagrees, the wait for its first
 * measurement at start, and the clock part of `status()`.
 */
import { type ClockVerdict, ClockWatch } from '../clock/watch.js'
import * as defaults from '../constants.js'
import type { ClockStatus } from '../contract.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import type { Replica } from '../store/replica.js'
import type { PartLog } from './log.js'

/** A watch of this clock against the swarm's that reports each change of verdict, and logs it. */
export function watchClock(maxSkew: number, onChange: (verdict: ClockVerdict) => void, log: PartLog): ClockWatch {
  return new ClockWatch({
    maxSkew,
    onChange: ({ skewed, offsetMs, peers }) => {
      onChange({ skewed, offsetMs, peers })
      if (skewed) {
        log.error(
          'this clock is %d ms %s the swarm (median of %d peers; limit %d ms): saves and removes are refused until it is fixed',
          Math.abs(offsetMs),
          offsetMs > 0 ? 'ahead of' : 'behind',
          peers,
          maxSkew
        )
      } else log.info('this clock agrees with the swarm again (%d ms off): saves and removes resume', offsetMs)
    }
  })
}

export class ClockGate {
  private readonly watch: ClockWatch
  private readonly replica: Replica
  private readonly log: PartLog
  /** Whether the refusal of writes for a clock set back has been logged (once until it clears). */
  private loggedStampLead = false

  constructor(watch: ClockWatch, replica: Replica, log: PartLog) {
    this.watch = watch
    this.replica = replica
    this.log = log
  }

  /** Settles at the first measurement of this clock, after DEFAULT_START_CLOCK_WAIT, or when `stopped` settles. */
  async firstReading(stopped: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, defaults.DEFAULT_START_CLOCK_WAIT)
    })
    try {
      await Promise.race([this.watch.measured, waited, stopped])
    } finally {
      clearTimeout(timer)
    }
  }

  status(): ClockStatus {
    const { clock } = this.replica
    const verdict = this.watch.verdict
    const stampLeadMs = Math.max(clock.current.wall - clock.now(), 0)
    return {
      ...verdict,
      skewed: verdict.skewed || stampLeadMs > clock.maxSkew,
      stampLeadMs,
      maxSkewMs: clock.maxSkew,
      restoredAhead: clock.restoredAhead
    }
  }

  /**
   * Refuses a save or remove that the swarm would refuse or that would lose: while this clock
   * disagrees with the swarm's, or when the key's stored write was restored with a stamp this
   * clock cannot pass without stamping ahead of what peers accept. Counter changes carry no
   * stamp (peers merge totals): they go on.
   */
  assertAgrees(collection: string, key: string): void {
    const { verdict } = this.watch
    if (verdict.skewed) {
      throw new SharedMemError(
        ErrorCode.CLOCK_UNSYNCED,
        `this peer's clock is ${Math.abs(verdict.offsetMs)} ms ${verdict.offsetMs > 0 ? 'ahead of' : 'behind'} its swarm's (limit ${this.replica.clock.maxSkew} ms): fix the host's clock`
      )
    }
    const { clock } = this.replica
    const bound = clock.now() + clock.maxSkew
    // The wall clock was set back while the peer ran: the next stamps would be as far ahead.
    if (clock.current.wall > bound) {
      if (!this.loggedStampLead) {
        this.loggedStampLead = true
        this.log.error(
          'the wall clock is %d ms behind the latest timestamp: saves and removes are refused until it catches up, or restart the peer',
          clock.current.wall - clock.now()
        )
      }
      throw new SharedMemError(
        ErrorCode.CLOCK_UNSYNCED,
        `this peer's latest timestamp is ${clock.current.wall - clock.now()} ms ahead of its wall clock (limit ${clock.maxSkew} ms; the clock was set back): restart the peer, or wait`
      )
    }
    this.loggedStampLead = false
    if (clock.restoredAhead <= bound) return
    const stored = this.replica.entry(collection, key)
    if (stored !== undefined && stored.wall > bound) {
      throw new SharedMemError(
        ErrorCode.CLOCK_UNSYNCED,
        `the stored write of ${collection}/${key} is stamped ${stored.wall - clock.now()} ms ahead of this clock, from a run on a clock that was ahead: it can be changed once the clock is within ${clock.maxSkew} ms of it`
      )
    }
  }
}
