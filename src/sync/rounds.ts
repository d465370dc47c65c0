/**
 * The sync rounds that run now, by peer and direction: at most one this peer opened with each
 * peer, and those each peer opened with this one (a peer may open several: the protocol handler
 * accepts a few streams at once). Settled rounds leave the map by themselves.
 */
import type { SessionResult } from './context.js'

/** Which side opened the round: this peer (`out`) or the other (`in`). */
export type Direction = 'in' | 'out'

export class Rounds {
  private readonly outbound = new Map<string, Promise<SessionResult>>()
  private readonly inbound = new Map<string, Set<Promise<SessionResult>>>()

  /**
   * A round between this peer and `peer` that runs now, whichever side opened it (the one this
   * peer opened first, else the earliest the other opened), or undefined.
   */
  with(peer: string): Promise<SessionResult> | undefined {
    const out = this.outbound.get(peer)
    if (out !== undefined) return out
    for (const round of this.inbound.get(peer) ?? []) return round
    return undefined
  }

  /** Tracks `round` until it settles; the promise returned settles as it does. */
  track(peer: string, direction: Direction, round: Promise<SessionResult>): Promise<SessionResult> {
    if (direction === 'out') {
      const tracked: Promise<SessionResult> = round.finally(() => {
        if (this.outbound.get(peer) === tracked) this.outbound.delete(peer)
      })
      this.outbound.set(peer, tracked)
      return tracked
    }
    const rounds = this.inbound.get(peer) ?? new Set()
    const tracked = round.finally(() => {
      rounds.delete(tracked)
      if (rounds.size === 0 && this.inbound.get(peer) === rounds) this.inbound.delete(peer)
    })
    rounds.add(tracked)
    this.inbound.set(peer, rounds)
    return tracked
  }

  /** Resolves once every round running now has settled (however). */
  async settled(): Promise<void> {
    const running: Promise<SessionResult>[] = [...this.outbound.values()]
    for (const rounds of this.inbound.values()) running.push(...rounds)
    await Promise.allSettled(running)
  }
}
