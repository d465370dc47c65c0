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
 *
 * Before its DIGEST, an initiator also waits for the round this peer opened before it to have its
 * LEAVES (at most CATCH_UP_OPENING_WAIT after that one sent its DIGEST: a peer that never answers
 * holds nothing back for long, and the rounds behind it still go one at a time), then for the
 * turns taken by then: a DIGEST sent while the catch-up runs shows groups the catch-up is about to
 * fill, and the other side answers them with up to 32 KB of LEAVES that are stale once the turn
 * comes (a joiner that opened rounds with 7 peers at once was sent 7 × 32 KB for one replica of
 * 0.45 MB). This wait holds no turn: nothing else waits on it but the rounds this peer opens after
 * it. All of it and the round's own wait for its turn share one CATCH_UP_TURN_WAIT.
 */
import { CATCH_UP_OPENING_WAIT, CATCH_UP_TURN_WAIT } from '../constants.js'

/** A round's place in a line: `wait` resolves when it may go on, `release` lets the next one go. */
export interface Place<T> {
  wait: (signal: AbortSignal) => Promise<T>
  release: () => void
}

export class CatchUp {
  private caughtUp = false
  /** Settles when the round that took the last turn releases it. */
  private last: Promise<void> = Promise.resolve()
  /** Settles when the last round this peer opened while catching up has its LEAVES, or ends. */
  private opened: Promise<void> = Promise.resolve()
  /** Settles when that round sends its DIGEST (stops waiting), or ends. */
  private openedSent: Promise<void> = Promise.resolve()

  /**
   * A round's place in the turns (none once caught up): `wait` resolves when its turn comes (at most
   * CATCH_UP_TURN_WAIT, and not past `until`, a time in ms, or when `signal` aborts), true if this
   * peer caught up through another round meanwhile (what the other side said before the wait is
   * then stale); `release`, called when the round ends however, and before its turn came too, lets
   * the next round go.
   */
  enter(until = Number.POSITIVE_INFINITY): Place<boolean> {
    if (this.caughtUp) return { wait: async () => false, release: () => {} }
    const before = this.last
    const turn = gate()
    this.last = turn.passed
    const wait = async (signal: AbortSignal): Promise<boolean> => {
      await bounded(before, Math.min(CATCH_UP_TURN_WAIT, until - Date.now()), signal)
      return this.caughtUp
    }
    return { wait, release: turn.pass }
  }

  /**
   * An initiator's place before its DIGEST (none once caught up): `wait` resolves once the round
   * this peer opened before it has its LEAVES or has ended (at most CATCH_UP_OPENING_WAIT after that
   * one sent its DIGEST), then once the turns taken by then have been released, or when `signal`
   * aborts; at most CATCH_UP_TURN_WAIT from this call in all. It resolves the time (ms) that bound
   * ends, past which the round's own turn waits no more ({@link enter}). `release`, called once the
   * round has its LEAVES and has entered the turns, and when it ends however, lets the next one go on.
   */
  open(): Place<number> {
    if (this.caughtUp) return { wait: async () => Number.POSITIVE_INFINITY, release: () => {} }
    const [before, beforeSent] = [this.opened, this.openedSent]
    const [leaves, sent] = [gate(), gate()]
    this.opened = leaves.passed
    this.openedSent = sent.passed
    // One CATCH_UP_TURN_WAIT for all of this round's waits, its own turn's too: none waits longer than before.
    const until = Date.now() + CATCH_UP_TURN_WAIT
    const wait = async (signal: AbortSignal): Promise<number> => {
      try {
        await bounded(beforeSent, until - Date.now(), signal)
        await bounded(before, Math.min(CATCH_UP_OPENING_WAIT, until - Date.now()), signal)
        await bounded(this.last, until - Date.now(), signal)
        return until
      } finally {
        sent.pass()
      }
    }
    return {
      wait,
      release: () => {
        sent.pass()
        leaves.pass()
      }
    }
  }

  /** A round completed: this peer holds what a peer held, and its rounds no longer take turns. */
  completed(): void {
    this.caughtUp = true
  }
}

/** A promise that settles once `pass` is called (the first call; later ones change nothing). */
function gate(): { passed: Promise<void>; pass: () => void } {
  let pass = (): void => {}
  const passed = new Promise<void>((resolve) => {
    pass = resolve
  })
  return { passed, pass }
}

/** Waits for `promise`, at most `ms`, or until `signal` aborts. */
async function bounded(promise: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return
  let timer: NodeJS.Timeout | undefined
  let onAbort = (): void => {}
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    onAbort = () => resolve()
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([promise, waited])
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}
