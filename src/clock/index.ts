import { ErrorCode, SharedMemError } from '../errors.js'
import { receive, restore, type Timestamp, tick, ZERO } from './hlc.js'

export {
  compareStampParts,
  compareStamps,
  compareTimestamps,
  receive,
  restore,
  type Stamp,
  type Timestamp,
  tick,
  ZERO
} from './hlc.js'

export interface ClockInit {
  /** Wall clock in ms; injected so tests can drive time. @default Date.now */
  now?: () => number
  /** Largest accepted lead of a remote timestamp over the local wall clock, in ms. */
  maxSkew: number
}

/** The one piece of clock state a peer keeps: the last timestamp it issued or saw. */
export class Clock {
  readonly now: () => number
  readonly maxSkew: number
  private last: Timestamp = ZERO
  private ahead = 0
  /**
   * How far this clock leads the swarm's, in ms, once it is known to be off by more than
   * `maxSkew` (0 otherwise): remote stamps are then judged against the swarm's time, so that a
   * peer far ahead refuses what the swarm refuses, and one far behind accepts what it accepts.
   */
  swarmLead = 0

  constructor(init: ClockInit) {
    this.now = init.now ?? Date.now
    this.maxSkew = init.maxSkew
  }

  /** The latest timestamp issued or observed. */
  get current(): Timestamp {
    return this.last
  }

  /** A fresh timestamp for a local write, strictly after every earlier one. */
  tick(): Timestamp {
    this.last = tick(this.last, this.now())
    return this.last
  }

  /**
   * The largest wall time of a restored stamp that lay more than `maxSkew` ahead of the
   * wall clock when it was restored (0: none). Such a stamp was made while this host's
   * clock ran ahead; the clock did not fold it in (see {@link observe}).
   */
  get restoredAhead(): number {
    return this.ahead
  }

  /**
   * Folds a timestamp this peer wrote or stored before (restored from disk) into the
   * clock without the skew check: the host clock may have moved back between runs. A
   * stamp more than `maxSkew` ahead of the wall clock is left out (and remembered in
   * {@link restoredAhead}): folded in, it would have this peer stamp every write that far
   * ahead, and a swarm on the right time refuses them all until the wall clock catches up.
   */
  observe(stamp: Timestamp): void {
    const now = this.now()
    this.last = restore(this.last, stamp, now, this.maxSkew)
    if (stamp.wall > now + this.maxSkew && stamp.wall > this.ahead) this.ahead = stamp.wall
  }

  /**
   * Folds a remote timestamp into the clock, so later local writes order after it
   * (`now`: the wall clock, when the caller has just read it). Throws
   * `ERR_CLOCK_SKEW`, and changes nothing, when it lies too far ahead.
   */
  receive(remote: Timestamp, now = this.now()): void {
    this.checkSkew(remote.wall, now)
    this.last = receive(this.last, remote, now)
  }

  /** Throws `ERR_CLOCK_SKEW` when a remote wall time lies too far ahead of `now` (of the swarm's time, see {@link swarmLead}). */
  checkSkew(wall: number, now = this.now()): void {
    const swarmNow = now - this.swarmLead
    if (wall > swarmNow + this.maxSkew) {
      throw new SharedMemError(
        ErrorCode.CLOCK_SKEW,
        `remote timestamp is ${wall - swarmNow} ms ahead of the ${this.swarmLead === 0 ? 'local' : "swarm's"} clock (limit ${this.maxSkew} ms)`
      )
    }
  }
}
