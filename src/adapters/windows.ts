/**
 * Hit counters per key, each in a window of its own, and the window's deadline, which both
 * rate-limit adapters report (express-rate-limit's `resetTime`, rate-limiter-flexible's
 * `msBeforeNext`).
 *
 * The count is the counter's own window (`increment` with `expiresIn`): one counter per key, whose
 * window every replica ends at the same deadline, so the limit is exactly the counter's. No verb
 * reads a counter's deadline, so it is kept beside the counter as an entry of `collection`, saved
 * by the process whose increment counted from 0 (the one that opened the window): the deadline it
 * saves is taken after its increment came back, so it is never before the counter's own (on one
 * clock; across hosts, within their clock difference). Two processes that open a window at once
 * both save; the counter keeps the later window and the entries the later save, both within the
 * replication delay of each other. An increment that counts from 0 inside a running window (after
 * a reset, or decrements back to 0) saves a later deadline than the counter's: a client is then
 * told to wait longer than it must, never shorter. A process that does not see the entry yet (its
 * opener's save still on its way) reports the latest the deadline can be, `windowMs` from now.
 *
 * The entries also list the keys with a running window, which is what a reset of every key needs.
 */
import type { SharedMem } from '../contract.js'

export interface WindowState {
  /** The counter's value: hits (or points) counted in the running window. */
  total: number
  /** When the window ends, in ms since the epoch; undefined for a counter with no window (no expiry). */
  deadline: number | undefined
}

/** `n` for a finite number, else undefined (an entry written by something else is ignored). */
const asDeadline = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined

export class KeyedWindows {
  private readonly peer: SharedMem
  private readonly namespace: string
  /** Where the deadlines are kept, one entry per key with a running window. */
  readonly collection: string

  /** `namespace` prefixes every counter name (`${namespace}${key}`), as a Redis store prefixes its keys. */
  constructor(peer: SharedMem, namespace: string) {
    this.peer = peer
    this.namespace = namespace
    // A collection name may not be empty, and a namespace may be.
    this.collection = `rate-limit:${namespace}`
  }

  counter(key: string): string {
    return `${this.namespace}${key}`
  }

  /**
   * Adds `by` to the key's counter, opening a window of `windowMs` if none runs (0: a counter that
   * never expires), and resolves the new total and the window's deadline.
   */
  async add(key: string, by: number, windowMs: number): Promise<WindowState> {
    const expiresIn = windowMs > 0 ? windowMs : null
    const total = await this.peer.increment({ counter: this.counter(key), by, options: { expiresIn } })
    if (expiresIn === null) return { total, deadline: undefined }
    const now = Date.now()
    if (total === by) {
      // Counted from 0: this change opened the window (or follows a reset to 0; see above).
      const deadline = now + windowMs
      await this.peer.save({ collection: this.collection, key, variable: deadline, options: { expiresIn } })
      return { total, deadline }
    }
    return { total, deadline: (await this.deadline(key)) ?? now + windowMs }
  }

  /** The key's total and deadline; undefined for a key with no running window and nothing counted. */
  async read(key: string): Promise<WindowState | undefined> {
    const [total, deadline] = await Promise.all([
      this.peer.getCounter({ counter: this.counter(key) }),
      this.deadline(key)
    ])
    if (deadline === undefined && total === 0) return undefined
    return { total, deadline }
  }

  /** The saved deadline of the key's running window, if one is known here and has not passed. */
  async deadline(key: string): Promise<number | undefined> {
    const deadline = asDeadline(await this.peer.get({ collection: this.collection, key }))
    return deadline !== undefined && deadline > Date.now() ? deadline : undefined
  }

  /**
   * Sets the key's counter to 0 on every replica and forgets its deadline, so that the next hit
   * reports a window of its own. The counter's window itself runs on to its deadline (a window ends
   * only there). Resolves whether anything was counted or known of the key here.
   */
  async reset(key: string): Promise<boolean> {
    const counter = this.counter(key)
    const total = await this.peer.getCounter({ counter })
    await this.peer.resetCounter({ counter })
    const known = await this.peer.remove({ collection: this.collection, key })
    return known || total !== 0
  }

  /**
   * Resets every key with a running window known to this replica: a window opened elsewhere whose
   * deadline has not arrived here yet is not seen, as a clear in progress would not see it.
   */
  async resetAll(): Promise<void> {
    const keys = Object.keys(await this.peer.getArray({ collection: this.collection }))
    for (const key of keys) await this.reset(key)
  }
}
