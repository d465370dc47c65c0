/**
 * A token bucket: up to `capacity` actions in a burst, then one per `interval`
 * ms. Time is passed in, so that tests drive it without sleeping.
 */
export class TokenBucket {
  private readonly capacity: number
  private readonly interval: number
  private tokens: number
  private updatedAt: number

  constructor(capacity: number, interval: number, now: number) {
    this.capacity = Math.max(1, capacity)
    this.interval = Math.max(0, interval)
    this.tokens = this.capacity
    this.updatedAt = now
  }

  /** Takes a token if one is left at `now`; false (and nothing taken) otherwise. */
  take(now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }

  /** Milliseconds from `now` until a token is available (0 if one is). */
  wait(now: number): number {
    this.refill(now)
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.interval)
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt
    this.updatedAt = now
    // A clock that steps back refills nothing, and does not postpone the next refill either.
    if (elapsed <= 0) return
    this.tokens = this.interval === 0 ? this.capacity : Math.min(this.capacity, this.tokens + elapsed / this.interval)
  }
}
