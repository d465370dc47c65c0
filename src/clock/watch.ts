/**
 * What this peer knows of its clock against the swarm's: the latest samples of each
 * peer measured, and the verdict drawn from them (offset.ts). No I/O: the prober
 * (probe.ts) feeds it, the peer reads it to gate writes and to report.
 */
import { bestLead, type ClockSample, isSkewed, swarmLead } from './offset.js'

/** Samples kept per peer: the tightest of the last few absorbs one slow answer. */
export const SAMPLES_PER_PEER = 4

/** The verdict, as `status().clock` reports part of it. */
export interface ClockVerdict {
  /** True while this clock's lead over the swarm's is beyond `maxSkew`, either way. */
  readonly skewed: boolean
  /** This clock's lead over the swarm's, in ms (negative: behind). */
  readonly offsetMs: number
  /** Peers whose clock the verdict is drawn from. */
  readonly peers: number
}

export interface ClockWatchInit {
  /** The largest lead, either way, that peers tolerate (maxClockSkew), in ms. */
  maxSkew: number
  /** Called when the verdict turns from not skewed to skewed or back. */
  onChange?: (verdict: ClockVerdict) => void
}

export class ClockWatch {
  private readonly init: ClockWatchInit
  private readonly samples = new Map<string, ClockSample[]>()
  private current: ClockVerdict = { skewed: false, offsetMs: 0, peers: 0 }
  private markMeasured: () => void = () => {}
  /** Settles at the first sample of any peer's clock. */
  readonly measured: Promise<void>

  constructor(init: ClockWatchInit) {
    this.init = init
    this.measured = new Promise((resolve) => {
      this.markMeasured = resolve
    })
  }

  get verdict(): ClockVerdict {
    return this.current
  }

  /** Adds a sample of `peer`'s clock. */
  add(peer: string, sample: ClockSample): void {
    const kept = this.samples.get(peer) ?? []
    kept.push(sample)
    if (kept.length > SAMPLES_PER_PEER) kept.shift()
    this.samples.set(peer, kept)
    this.judge()
    this.markMeasured()
  }

  /** Forgets every peer not in `peers` (gone, or not of this swarm). */
  retain(peers: Iterable<string>): void {
    const keep = new Set(peers)
    let changed = false
    for (const peer of this.samples.keys()) {
      if (!keep.has(peer)) {
        this.samples.delete(peer)
        changed = true
      }
    }
    if (changed) this.judge()
  }

  /** Forgets `peer` (disconnected). */
  forget(peer: string): void {
    if (this.samples.delete(peer)) this.judge()
  }

  private judge(): void {
    const leads: number[] = []
    for (const kept of this.samples.values()) {
      const best = bestLead(kept)
      if (best !== undefined) leads.push(best.lead)
    }
    const offsetMs = Math.round(swarmLead(leads))
    const skewed = isSkewed(offsetMs, this.init.maxSkew)
    const changed = skewed !== this.current.skewed
    this.current = { skewed, offsetMs, peers: leads.length }
    if (changed) this.init.onChange?.(this.current)
  }
}
