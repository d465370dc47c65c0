/**
 * A peer's first catch-up comes from one peer at a time. A late joiner (or a restarted
 * peer) meets every peer of the swarm at once, and each would send it its whole replica
 * in a round of its own: three peers sent a 50,000-entry joiner 108 MB together, and a
 * replaced worker among 16 would be sent 15 replicas (docs/benchmarks.md). Until this peer
 * completes its first round, its rounds take turns to take entries in; the rounds after the
 * first find only what changed meanwhile. A responder takes its turn before it answers the
 * DIGEST, an initiator once it has the LEAVES (so that it never holds a turn while a peer
 * waits for its own to answer it), and it compares leaves after the wait. A round waits at
 * most CATCH_UP_TURN_WAIT (src/constants.ts): two joiners that open rounds with each other
 * at the same moment, each holding its turn for the other's, are never stuck for long.
 */
import { CATCH_UP_TURN_WAIT } from '../constants.js'

export class CatchUp {
  private caughtUp = false
  /** Settles when the round that took the last turn releases it. */
  private last: Promise<void> = Promise.resolve()

  /**
   * A round's place in the turns (none once caught up): `wait` resolves when its turn comes (at most
   * CATCH_UP_TURN_WAIT, or when `signal` aborts), true if this peer caught up through another round
   * meanwhile (what the other side said before the wait is then stale); `release`, called when the
   * round ends however, and before its turn came too, lets the next round go.
   */
  enter(): { wait: (signal: AbortSignal) => Promise<boolean>; release: () => void } {
    if (this.caughtUp) return { wait: async () => false, release: () => {} }
    const before = this.last
    let release = (): void => {}
    this.last = new Promise((resolve) => {
      release = resolve
    })
    const wait = async (signal: AbortSignal): Promise<boolean> => {
      let timer: NodeJS.Timeout | undefined
      let onAbort = (): void => {}
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CATCH_UP_TURN_WAIT)
        onAbort = () => resolve()
        signal.addEventListener('abort', onAbort, { once: true })
      })
      try {
        await Promise.race([before, waited])
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
      }
      return this.caughtUp
    }
    return { wait, release }
  }

  /** A round completed: this peer holds what a peer held, and its rounds no longer take turns. */
  completed(): void {
    this.caughtUp = true
  }
}
