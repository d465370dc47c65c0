/**
 * The clients of a chaos run: concurrent loops, each sending one request at a time over HTTP to a
 * random live peer, and the history of what was acknowledged.
 *
 * - unique saves: each key `u<n>` once; an acknowledged one must be on every replica at the end
 * - contended saves on a few hot keys: the end value must be one of that key's written values
 * - removes of acknowledged unique keys, once their save is older than twice the clock skew the
 *   run allows (so the remove's timestamp is later whatever the clocks): never back at the end
 * - increments and decrements of shared counters: exact, up to the ops whose answer was lost
 * - saves with expiresIn: gone at the end once their time (plus the skew allowed) has passed
 * A request that fails with an answer from the server wrote nothing; one that times out or loses
 * its connection may or may not have been applied ("uncertain").
 */

const HOT_KEYS = 4
const COUNTERS = 3

export class Workload {
  /** @param {{ rng: () => number, cluster: import('./cluster.mjs').Cluster, timeout: number, skewBound: number }} init */
  constructor(init) {
    this.init = init
    this.next = 0
    this.ops = { attempted: 0, acknowledged: 0, refused: 0, uncertain: 0 }
    this.byKind = {}
    /** key → { value, peer, at } of acknowledged unique saves */
    this.unique = new Map()
    /** unique keys whose save is uncertain: may or may not exist at the end */
    this.maybeUnique = new Set()
    this.removed = new Set()
    /** acknowledged unique keys in order, and how far removes have looked through them */
    this.removeQueue = []
    this.removeCursor = 0
    this.maybeRemoved = new Set()
    /** hot key → values written (acknowledged or uncertain) */
    this.hot = new Map(Array.from({ length: HOT_KEYS }, (_, k) => [`h${k}`, new Set()]))
    this.counters = new Map(Array.from({ length: COUNTERS }, (_, c) => [`c${c}`, { sum: 0, maybeUp: 0, maybeDown: 0 }]))
    /** ttl key → { expiresIn, at, skew } of acknowledged saves with expiresIn */
    this.expiring = new Map()
    this.running = false
  }

  pick() {
    const live = this.init.cluster.peers.filter((p) => p.up)
    return live.length === 0 ? undefined : live[Math.floor(this.init.rng() * live.length)]
  }

  async call(peer, verb, body) {
    this.ops.attempted++
    this.byKind[verb] = (this.byKind[verb] ?? 0) + 1
    try {
      const response = await fetch(`${this.init.cluster.url(peer.i)}/${verb}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(this.init.timeout)
      })
      const answer = await response.json()
      if (response.ok) {
        this.ops.acknowledged++
        return { ok: true, result: answer.result }
      }
      this.ops.refused++
      return { ok: false, refused: true, code: answer.error?.code }
    } catch {
      this.ops.uncertain++
      return { ok: false, refused: false }
    }
  }

  async step() {
    const peer = this.pick()
    if (peer === undefined) return new Promise((resolve) => setTimeout(resolve, 50))
    const rng = this.init.rng
    const roll = rng()
    if (roll < 0.4) {
      const key = `u${this.next++}`
      const value = { n: this.next, by: peer.i }
      const at = Date.now()
      const r = await this.call(peer, 'save', { collection: 'u', key, variable: value })
      if (r.ok) {
        this.unique.set(key, { value, peer: peer.i, at })
        // A key written on a peer whose clock is off is never removed: its stamp may lead the remove's.
        if (peer.skew === 0) this.removeQueue.push({ key, at })
      } else if (!r.refused) this.maybeUnique.add(key)
    } else if (roll < 0.6) {
      const key = `h${Math.floor(rng() * HOT_KEYS)}`
      const value = `w${this.next++}@${peer.i}`
      this.hot.get(key).add(value)
      await this.call(peer, 'save', { collection: 'h', key, variable: value })
    } else if (roll < 0.7) {
      const key = this.removable()
      if (key === undefined) return
      const r = await this.call(peer, 'remove', { collection: 'u', key })
      if (r.ok) this.removed.add(key)
      else if (!r.refused) this.maybeRemoved.add(key)
    } else if (roll < 0.9) {
      const counter = `c${Math.floor(rng() * COUNTERS)}`
      const up = rng() < 0.6
      const r = await this.call(peer, up ? 'increment' : 'decrement', { counter })
      const c = this.counters.get(counter)
      if (r.ok) c.sum += up ? 1 : -1
      else if (!r.refused) up ? c.maybeUp++ : c.maybeDown++
    } else {
      const key = `t${this.next++}`
      const expiresIn = 500 + Math.floor(rng() * 2500)
      const at = Date.now()
      const r = await this.call(peer, 'save', { collection: 't', key, variable: 1, options: { expiresIn } })
      if (r.ok) this.expiring.set(key, { expiresIn, at, skew: peer.skew, peer: peer.i, done: Date.now() })
    }
  }

  /** An acknowledged unique key old enough to remove safely whatever the clocks (see above), or none. */
  removable() {
    const candidate = this.removeQueue[this.removeCursor]
    if (candidate === undefined || candidate.at > Date.now() - 2 * this.init.skewBound - 1000) return undefined
    this.removeCursor++
    // One key in three is removed; the others stay, for the "nothing lost" check.
    return this.init.rng() < 1 / 3 ? candidate.key : this.removable()
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
