/**
 * Tombstone collection on a schedule: every interval, old tombstones are collected below the
 * members' watermark, a slice at a time so that reads and writes go on meanwhile. The digest's
 * line (store/tally.ts) is moved the same way, at each moment it is due.
 */
import * as defaults from '../constants.js'
import { digestEpoch } from '../store/digest.js'
import type { Replica } from '../store/replica.js'
import { nextLineMove } from '../store/tally.js'
import type { Membership } from '../sync/membership.js'

export interface CollectorInit {
  replica: Replica
  membership: Membership
  /** Time between collections, in ms (collectInterval). */
  interval: number
  /** The clocks' allowed skew (maxClockSkew), in ms. */
  maxSkew: number
  /** How long a tombstone is kept (tombstoneTtl), in ms. */
  tombstoneTtl: number
  /** Whether the peer is still started: a slice after stop does nothing. */
  running: () => boolean
}

/** How long one slice of the digest line's scan runs before the event loop gets a turn. */
const LINE_SLICE_MS = 4
/** Positions the line's scan reads between two looks at the time: each may hash an entry that leaves. */
const LINE_BATCH = 256

export class Collector {
  private readonly replica: Replica
  private readonly membership: Membership
  private readonly interval: number
  private readonly running: () => boolean
  /**
   * Member times are read on each member's own clock: below a tombstone TTL of twice the skew
   * allowed between clocks, the TTL alone is no margin for that, so collection waits this much more.
   */
  private readonly clockMargin: number
  private timer: NodeJS.Timeout | undefined
  private lineTimer: NodeJS.Timeout | undefined
  private readonly tombstoneTtl: number

  constructor(init: CollectorInit) {
    this.replica = init.replica
    this.membership = init.membership
    this.interval = init.interval
    this.running = init.running
    this.tombstoneTtl = init.tombstoneTtl
    this.clockMargin = Math.max(0, 2 * init.maxSkew - init.tombstoneTtl)
  }

  /** Collects old tombstones every interval, and moves the digest's line when due, a slice at a time so that reads and writes go on meanwhile. */
  start(): void {
    this.collectLater()
    this.moveLineLater()
  }

  private collectLater(): void {
    this.timer = setTimeout(() => {
      // A pause of the process (a stopped container, a suspended host) is no running time.
      this.membership.tick(2 * this.interval)
      const watermark = this.membership.watermark() - this.clockMargin
      const steps = this.replica.collectStepwise(defaults.DEFAULT_SYNC_SCAN_BATCH, watermark)
      const step = (): void => {
        if (!this.running()) return
        if (steps.next().done === true) this.collectLater()
        else this.timer = setTimeout(step, 0)
      }
      step()
    }, this.interval)
  }

  /**
   * At the next moment the digest's line moves, scans the replica for it in slices of about
   * LINE_SLICE_MS (a sync round or status() that reads the digest meanwhile finishes the scan).
   * Waits an epoch at most, so that a clock moved is met within one.
   */
  private moveLineLater(): void {
    const now = this.replica.clock.now()
    const until = nextLineMove(now, this.tombstoneTtl) - now
    // A TTL no clock reaches (Infinity): the line never moves.
    if (Number.isNaN(until)) return
    const epoch = digestEpoch(this.tombstoneTtl)
    // Never due already, but for a TTL so large that the sum loses its last digits: then an epoch.
    const wait = until > 0 ? Math.min(until, epoch) : epoch
    this.lineTimer = setTimeout(() => {
      const steps = this.replica.ageDigestStepwise(LINE_BATCH)
      const slice = (): void => {
        if (!this.running()) return
        const started = performance.now()
        let done = false
        while (!done && performance.now() - started < LINE_SLICE_MS) done = steps.next().done === true
        if (done) this.moveLineLater()
        else this.lineTimer = setTimeout(slice, 0)
      }
      slice()
    }, wait)
  }

  stop(): void {
    clearTimeout(this.timer)
    clearTimeout(this.lineTimer)
  }
}
