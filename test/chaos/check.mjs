/**
 * What must hold once a chaos run has healed: every replica identical, nothing acknowledged lost,
 * nothing removed back, nothing expired alive, hot keys and counters within what was written.
 * Each violation is an anomaly: a short line saying what, where and which key.
 */

/** Reads everything a peer holds of the run's data, over its HTTP API. */
export async function readReplica(url) {
  const get = async (path) => {
    const response = await fetch(`${url}/${path}`, { signal: AbortSignal.timeout(30_000) })
    return (await response.json()).result
  }
  const counters = {}
  for (const c of ['c0', 'c1', 'c2']) counters[c] = await get(`getCounter?counter=${c}`)
  return {
    digest: (await get('status')).digest,
    u: await get('getArray?collection=u'),
    h: await get('getArray?collection=h'),
    t: await get('getArray?collection=t'),
    evil: await get('getArray?collection=evil'),
    counters
  }
}

const canonical = (value) =>
  JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v
  )

/**
 * @param {Array<Awaited<ReturnType<typeof readReplica>>>} replicas
 * @param {import('./workload.mjs').Workload} w
 * @param {{ now: number, skewAllowance: number }} at
 */
export function check(replicas, w, { now, skewAllowance }) {
  const anomalies = []
  const [first] = replicas
  replicas.forEach((r, i) => {
    if (r.digest !== first.digest) anomalies.push(`peer ${i}: digest ${r.digest} differs from peer 0's ${first.digest}`)
    // Not `t`: its entries expire by the clock, so two reads moments apart may differ near an
    // expiry; the digest (which covers them, expiry included) says whether the replicas are equal.
    for (const part of ['u', 'h', 'evil', 'counters']) {
      if (canonical(r[part]) !== canonical(first[part])) anomalies.push(`peer ${i}: ${part} differs from peer 0's`)
    }
  })
  let lost = 0
  for (const [key, save] of w.unique) {
    if (w.removed.has(key) || w.maybeRemoved.has(key)) continue
    if (canonical(first.u[key]) !== canonical(save.value)) {
      lost++
      if (lost <= 10) anomalies.push(`lost: u/${key} (acknowledged by peer ${save.peer}) is ${canonical(first.u[key])}`)
    }
  }
  if (lost > 10) anomalies.push(`lost: ${lost} acknowledged unique keys in all`)
  for (const key of w.removed) if (key in first.u) anomalies.push(`back: u/${key} was removed, and is there`)
  for (const key of Object.keys(first.u)) {
    if (!w.unique.has(key) && !w.maybeUnique.has(key)) anomalies.push(`invented: u/${key} was never written`)
  }
  for (const [key, values] of w.hot) {
    if (key in first.h && !values.has(first.h[key])) anomalies.push(`hot: h/${key} is ${first.h[key]}, never written`)
  }
  for (const [name, c] of w.counters) {
    const value = first.counters[name]
    if (value < c.sum - c.maybeDown || value > c.sum + c.maybeUp) {
      anomalies.push(`counter ${name} is ${value}: acknowledged ${c.sum}, uncertain +${c.maybeUp}/-${c.maybeDown}`)
    }
  }
  for (const [key, e] of w.expiring) {
    if (key in first.t && now > e.at + e.expiresIn + Math.max(e.skew, 0) + skewAllowance) {
      anomalies.push(
        `alive: t/${key} (saved on peer ${e.peer} with expiresIn ${e.expiresIn}, skew ${e.skew}, answered after ${e.done - e.at} ms) expired ${now - e.at - e.expiresIn} ms ago`
      )
    }
  }
  if (Object.keys(first.evil).length > 0) anomalies.push(`evil: the hostile peer's writes were stored`)
  const exact = [...w.counters.values()].filter((c) => c.maybeUp + c.maybeDown === 0).length
  return { anomalies, lost, exactCounters: exact }
}
