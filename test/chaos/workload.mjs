/**
 * The clients of a chaos run: concurrent loops, each sending one request at a time over HTTP to a
 * random live peer, and the history of every write they tried (`ops`), which check.mjs judges.
 *
 * - unique saves: each key once, in `u` or a collection with a Unicode name (names.mjs)
 * - contended saves on a few hot keys (`h`), each with a value of its own
 * - removes of acknowledged unique keys, once their save is older than `removeAfter` (the clock
 *   skew between two peers, and what HLCs carry from a peer ahead: the remove's timestamp is then
 *   later whatever the clocks)
 * - increments and decrements of shared counters
 * - saves with expiresIn (`t`), from 1 ms to far beyond the run
 * Each op records its peer, that peer's clock skew, when it was sent (`at`) and answered (`done`),
 * and its outcome: `ack`, `refused` (an answer from the server: nothing was written) or
 * `uncertain` (timed out or lost its connection: may or may not have been applied).
 */
import { drawExpiresIn, drawName, drawValue, EXTRA_COLLECTIONS, EXTRA_COUNTERS } from './names.mjs'

export const HOT_KEYS = ['h0', 'h1', 'h2', 'h3']
export const COUNTERS = ['c0', 'c1', 'c2', ...EXTRA_COUNTERS]
export const UNIQUE_COLLECTIONS = ['u', ...EXTRA_COLLECTIONS]

export class Workload {
  /** @param {{ rng: () => number, cluster: import('./cluster.mjs').Cluster, timeout: number, removeAfter: number }} init */
  constructor(init) {
    this.init = init
    this.next = 0
    this.counts = { attempted: 0, acknowledged: 0, refused: 0, uncertain: 0 }
    this.byKind = {}
    /** Every write tried, in the order sent. */
    this.ops = []
    /** acknowledged unique saves in order, and how far removes have looked through them */
    this.removeQueue = []
    this.removeCursor = 0
    this.running = false
  }

  pick() {
    const live = this.init.cluster.peers.filter((p) => p.up)
    return live.length === 0 ? undefined : live[Math.floor(this.init.rng() * live.length)]
  }

  /** Sends one write and records it in the history; resolves the op. */
  async call(peer, verb, body, op) {
    this.counts.attempted++
    this.byKind[verb] = (this.byKind[verb] ?? 0) + 1
    const record = { ...op, peer: peer.i, skew: peer.skew, at: Date.now(), done: 0, outcome: 'uncertain' }
    this.ops.push(record)
    try {
      const response = await fetch(`${this.init.cluster.url(peer.i)}/${verb}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(this.init.timeout)
      })
      const answer = await response.json()
      record.outcome = response.ok ? 'ack' : 'refused'
      if (!response.ok) record.code = answer.error?.code
    } catch {}
    record.done = Date.now()
    this.counts[{ ack: 'acknowledged', refused: 'refused', uncertain: 'uncertain' }[record.outcome]]++
    return record
  }

  async step() {
    const peer = this.pick()
    if (peer === undefined) return new Promise((resolve) => setTimeout(resolve, 50))
    const rng = this.init.rng
    const roll = rng()
    const n = this.next++
    if (roll < 0.4) {
      const collection = rng() < 0.7 ? 'u' : EXTRA_COLLECTIONS[Math.floor(rng() * EXTRA_COLLECTIONS.length)]
      const key = drawName(rng, 'u', n)
      const value = drawValue(rng, n, peer.i)
      const body = { collection, key, variable: value }
      const op = await this.call(peer, 'save', body, { kind: 'save', collection, key, value })
      // A key written on a peer whose clock is off is never removed: its stamp may lead the remove's.
      if (op.outcome === 'ack' && peer.skew === 0) this.removeQueue.push(op)
    } else if (roll < 0.6) {
      const key = HOT_KEYS[Math.floor(rng() * HOT_KEYS.length)]
      const value = `w${n}@${peer.i}`
      await this.call(
        peer,
        'save',
        { collection: 'h', key, variable: value },
        { kind: 'save', collection: 'h', key, value }
      )
    } else if (roll < 0.7) {
      const save = this.removable()
      if (save === undefined) return
      const { collection, key } = save
      await this.call(peer, 'remove', { collection, key }, { kind: 'remove', collection, key })
    } else if (roll < 0.9) {
      const counter = COUNTERS[Math.floor(rng() * COUNTERS.length)]
      const delta = rng() < 0.6 ? 1 : -1
      await this.call(peer, delta > 0 ? 'increment' : 'decrement', { counter }, { kind: 'count', counter, delta })
    } else {
      const key = drawName(rng, 't', n)
      const expiresIn = drawExpiresIn(rng)
      const body = { collection: 't', key, variable: n, options: { expiresIn } }
      await this.call(peer, 'save', body, { kind: 'save', collection: 't', key, value: n, expiresIn })
    }
  }

  /** An acknowledged unique save old enough to remove safely whatever the clocks (see above), or none. */
  removable() {
    for (let tries = 0; tries < 100; tries++) {
      const candidate = this.removeQueue[this.removeCursor]
      if (candidate === undefined || candidate.done > Date.now() - this.init.removeAfter) return undefined
      this.removeCursor++
      // One key in three is removed; the others stay, for the "nothing lost" check.
      if (this.init.rng() < 1 / 3) return candidate
    }
    return undefined
  }

  /** Runs `loops` clients until `stop()`. */
  start(loops) {
    this.running = true
    this.loops = Array.from({ length: loops }, async () => {
      while (this.running) await this.step()
    })
  }

  async stop() {
    this.running = false
    await Promise.all(this.loops ?? [])
  }
}
