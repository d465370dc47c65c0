/**
 * The sync rounds that run now, by peer and direction: at most one this peer opened with each
 * peer, and those each peer opened with this one (a peer may open several: the protocol handler
 * accepts a few streams at once). Settled rounds leave the map by themselves.
 *
 * It also says which requests for a round a running one answers. Requests are numbered as they
 * come (`ask`); a round this peer opened records, once its stream is open and before it takes its
 * digest, how many had come (`covers`). Every request up to that number finds its state in the
 * round, in both replicas: this side's digest, and the other side's, are taken after it. A round
 * the other peer opened covers none: the other side's digest was taken before this side heard of it.
 */
import type { SessionResult } from './context.js'

/** Which side opened the round: this peer (`out`) or the other (`in`). */
export type Direction = 'in' | 'out'

/** A round that runs now, and the requests it covers (those numbered up to `covers`). */
export interface Running {
  readonly round: Promise<SessionResult>
  readonly covers: number
}

export class Rounds {
  private readonly outbound = new Map<string, Running>()
  private readonly inbound = new Map<string, Set<Running>>()
  /** Every round running, also one a round opened alongside it replaced in `outbound`. */
  private readonly all = new Set<Running>()
  private asks = 0

  /** Numbers a request for a round: one that a round covers once it says so in {@link opened}. */
  ask(): number {
    return ++this.asks
  }

  /**
   * A round between this peer and `peer` that runs now, whichever side opened it (the one this
   * peer opened first, else the earliest the other opened), or undefined.
   */
  with(peer: string): Running | undefined {
    const out = this.outbound.get(peer)
    if (out !== undefined) return out
    for (const running of this.inbound.get(peer) ?? []) return running
    return undefined
  }

  /**
   * Tracks the round `open` starts until it settles; its promise settles as that round does. `open`
   * receives `opened`, to call once its stream is open and before it takes its digest: from then on,
   * a round this peer opened covers every request made so far.
   */
  track(peer: string, direction: Direction, open: (opened: () => void) => Promise<SessionResult>): Running {
    let covers = 0
    const opened = (): void => {
      if (direction === 'out') covers = this.asks
    }
    const round = open(opened).finally(() => this.forget(peer, running))
    const running: Running = {
      round,
      get covers() {
        return covers
      }
    }
    this.all.add(running)
    if (direction === 'out') {
      this.outbound.set(peer, running)
    } else {
      const set = this.inbound.get(peer) ?? new Set()
      set.add(running)
      this.inbound.set(peer, set)
    }
    return running
  }

  private forget(peer: string, running: Running): void {
    this.all.delete(running)
    if (this.outbound.get(peer) === running) this.outbound.delete(peer)
    const set = this.inbound.get(peer)
    if (set?.delete(running) === true && set.size === 0) this.inbound.delete(peer)
  }

  /** Resolves once every round running now has settled (however). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.all].map((r) => r.round))
  }
}
