/**
 * Tombstone collection on a schedule: every interval, old tombstones are collected below the
 * members' watermark, a slice at a time so that reads and writes go on meanwhile.
 */
import * as defaults from '../constants.js'
import type { Replica } from '../store/replica.js'
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

  constructor(init: CollectorInit) {
    this.replica = init.replica
    this.membership = init.membership
    this.interval = init.interval
    this.running = init.running
    this.clockMargin = Math.max(0, 2 * init.maxSkew - init.tombstoneTtl)
  }

  /** Collects old tombstones every interval, a slice at a time so that reads and writes go on meanwhile. */
  start(): void {
    this.timer = setTimeout(() => {
      // A pause of the process (a stopped container, a suspended host) is no running time.
      this.membership.tick(2 * this.interval)
      const watermark = this.membership.watermark() - this.clockMargin
      const steps = this.replica.collectStepwise(defaults.DEFAULT_SYNC_SCAN_BATCH, watermark)
      const step = (): void => {
        if (!this.running()) return
        if (steps.next().done === true) this.start()
        else this.timer = setTimeout(step, 0)
      }
      step()
    }, this.interval)
  }

  stop(): void {
    clearTimeout(this.timer)
  }
}
