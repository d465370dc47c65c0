/**
 * The seeded fault schedule of a chaos run: the same seed gives the same faults, in the same
 * order, on the same peers, for the same lengths. Each kind comes once first (in a seeded order,
 * as many as the run's length allows), then seeded draws.
 *
 * - `kill9`: SIGKILL one peer, restart it from its data directory 1–5 s later
 * - `killAll`: SIGKILL every peer at once, restart them all (once per run)
 * - `restartAll`: SIGTERM every peer, restart them all (once per run)
 * - `pause`: SIGSTOP one peer for 1–5 s
 * - `partition`: one or two peers cut off from the rest for 1–5 s
 * - `horizon`: one peer cut off for longer than the peers' tombstone horizon
 * - `skew`: one peer's clock 0.5–2 s ahead and another's behind, within --max-clock-skew
 * - `skewBeyond`: one peer's clock 8 s ahead, beyond --max-clock-skew
 * - `skewLarge`: one peer's clock an hour ahead or behind
 */

export const PEERS = 5
/** The largest skew injected within --max-clock-skew; beyond-skew faults use BEYOND_SKEW and LARGE_SKEW. */
export const WITHIN_SKEW = 2_000
export const BEYOND_SKEW = 8_000
export const LARGE_SKEW = 3_600_000

/** mulberry32: a small seeded PRNG, so that a seed replays its schedule. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The kinds a run can inject, given what this machine allows. */
export function faultKinds({ partitions, skew }) {
  const kinds = ['kill9', 'pause', 'restartAll', 'killAll']
  if (partitions) kinds.push('partition', 'horizon')
  if (skew) kinds.push('skew', 'skewBeyond', 'skewLarge')
  return kinds
}

/**
 * @param {number} seed
 * @param {number} durationMs
 * @param {{ partitions: boolean, skew: boolean, horizonMs: number }} options horizonMs: the peers' tombstoneTtl
 */
export function schedule(seed, durationMs, { partitions, skew, horizonMs }) {
  const rng = prng(seed ^ 0x5eed)
  const kinds = faultKinds({ partitions, skew })
  const draw = () => kinds[Math.floor(rng() * kinds.length)]
  const first = [...kinds].sort(() => rng() - 0.5)
  const faults = []
  const once = new Set()
  let at = 2_000
  for (let n = 0; at < durationMs - 3_000 && n < 1_000; n++) {
    let kind = n < first.length ? first[n] : draw()
    // One planned restart of all, and one kill of all, per run.
    if (kind === 'restartAll' || kind === 'killAll') {
      if (once.has(kind)) kind = 'kill9'
      once.add(kind)
    }
    const peer = Math.floor(rng() * PEERS)
    let length = 1_000 + Math.floor(rng() * 4_000)
    if (kind === 'horizon') length = horizonMs + 2_000 + Math.floor(rng() * 2_000)
    const others = [(peer + 1 + Math.floor(rng() * (PEERS - 1))) % PEERS]
    const isolated = rng() < 0.5 || kind === 'horizon' ? [peer] : [peer, ...others]
    const within = () => 500 + Math.floor(rng() * (WITHIN_SKEW - 500))
    const sign = rng() < 0.5 ? -1 : 1
    const skews = {
      skewBeyond: [[peer, BEYOND_SKEW]],
      skewLarge: [[peer, sign * LARGE_SKEW]]
    }[kind] ?? [
      [peer, within()],
      [others[0], -within()]
    ]
    faults.push({ at, kind, peer, length, isolated, skews })
    at += length + 500 + Math.floor(rng() * 1_500)
  }
  return faults
}
