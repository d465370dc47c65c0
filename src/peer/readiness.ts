/**
 * When a peer is ready to serve, so that a new worker never answers from an empty replica: once
 * its first complete sync round with a peer has ended (its replica then holds what that peer held,
 * and the other way round), or, for a peer with no one to meet, once discovery had its bounded
 * chance: every bootstrap address dialled once (each dial is bounded by the dial timeout), and the
 * first scan of the rendezvous directory found no one, or `wait` passed since the start (for peers
 * found there that were never reached), with nothing connected. A peer that is connected waits
 * for its round however long that takes: that is the point of readiness.
 */
import { stoppedError } from '../errors.js'

export interface ReadinessInit {
  /** The longest a peer waits for peers found on this host (rendezvous) to connect, in ms. */
  wait: number
  /** Open connections. */
  connections: () => number
  /** Whether every bootstrap address has been dialled at least once (reached or not). */
  bootstrapDialled: () => boolean
  /** Told once, when the peer becomes ready. */
  onReady?: () => void
}

/** What a sync round says about readiness. */
export interface RoundOutcome {
  complete: boolean
  deferred: boolean
}

export class Readiness {
  private readonly init: ReadinessInit
  private reached = false
  private settled = false
  /** The bounded chance has passed. */
  private waited = false
  /** The first scan of the rendezvous directory found no one (or same-host discovery is off). */
  private foundNoOne = false
  private timer: NodeJS.Timeout | undefined
  private resolve: () => void = () => {}
  private reject: (err: unknown) => void = () => {}
  /** Settles once ready; rejects if the peer stops first. */
  private readonly whenReady: Promise<void>

  constructor(init: ReadinessInit) {
    this.init = init
    this.whenReady = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Nobody may be waiting when the peer stops: the rejection is for those who are.
    this.whenReady.catch(() => {})
  }

  /** Whether the peer became ready. */
  get ready(): boolean {
    return this.reached
  }

  /** Starts the bounded chance. */
  start(): void {
    if (this.settled || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.waited = true
      this.check()
    }, this.init.wait)
  }

  /** Rejects a pending wait with `ERR_STOPPED` and clears the timer. */
  stop(): void {
    clearTimeout(this.timer)
    if (this.settled) return
    this.settled = true
    this.reject(stoppedError())
  }

  /** A sync round ended: a complete one that was not deferred makes the peer ready. */
  roundEnded(round: RoundOutcome): void {
    if (round.complete && !round.deferred) this.markReady()
  }

  /** The first scan of the rendezvous directory ended: `found` live peers (0 also when discovery is off). */
  scanned(found: number): void {
    if (found > 0) return
    this.foundNoOne = true
    this.check()
  }

  /** Becomes ready now if there is no one to meet; call again when a bootstrap dial ends or a peer leaves. */
  check(): void {
    if (this.settled || this.init.connections() > 0 || !this.init.bootstrapDialled()) return
    if (this.foundNoOne || this.waited) this.markReady()
  }

  /** Resolves with the peer's readiness, or rejects with the signal's reason when it aborts first. */
  wait(signal?: AbortSignal): Promise<void> {
    if (signal === undefined) return this.whenReady
    if (signal.aborted) return Promise.reject(signal.reason)
    if (this.reached) return this.whenReady
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      this.whenReady.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  private markReady(): void {
    if (this.settled) return
    this.settled = true
    this.reached = true
    clearTimeout(this.timer)
    this.resolve()
    this.init.onReady?.()
  }
}
