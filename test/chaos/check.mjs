/**
 * What must hold once a chaos run has healed, judged from the replicas' contents and the clients'
 * history (workload.mjs) alone, never from the system's own digest: every replica holds the same
 * thing in every collection any peer lists; nothing acknowledged is lost unless its peer's
 * configuration allows it (promise.mjs); nothing removed is back; nothing is invented; each hot
 * key holds a value no older, in last-writer-wins order, than its last acknowledged write; each
 * TTL key is there until it expires and gone after; counters are exact up to the ops whose answer
 * was lost. Each violation is an anomaly: a line starting with its class, then where and which key.
 */
import { COUNTERS, HOT_KEYS, UNIQUE_COLLECTIONS } from './workload.mjs'

const KEEP = new Set(['h', 't', 'evil', ...UNIQUE_COLLECTIONS])

/** Reads everything every peer holds: the union of the collections any of them lists, and the counters. */
export async function readReplicas(urls) {
  const call = async (url, verb, body) => {
    const response = await fetch(`${url}/${verb}`, {
      method: body === undefined ? 'GET' : 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(30_000)
    })
    return (await response.json()).result
  }
  const lists = await Promise.all(urls.map((url) => call(url, 'collections')))
  const names = [...new Set([...lists.flat(), ...KEEP])].sort()
  // Each peer moves its digest's line at the same moments, by its own clock (docs/semantics.md):
  // readings taken moments apart can straddle a move. Equal digests read together settle it; a
  // difference that outlasts a few epochs is reported.
  let digests = []
  for (let attempt = 0; attempt < 6; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 700))
    digests = await Promise.all(urls.map(async (url) => (await call(url, 'status')).digest))
    if (digests.every((d) => d === digests[0])) break
  }
  return Promise.all(
    urls.map(async (url, i) => {
      const readStart = Date.now()
      const digest = digests[i]
      const collections = {}
      for (const collection of names) collections[collection] = await call(url, 'getArray', { collection })
      const counters = {}
      for (const counter of COUNTERS) counters[counter] = await call(url, 'getCounter', { counter })
      return { digest, collections, counters, readStart, readEnd: Date.now() }
    })
  )
}

export const canonical = (value) =>
  JSON.stringify(value, (_k, v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v
  )
/** A name for a message: JSON-quoted (NUL and quotes visible), cut at 40 characters, never inside one. */
const show = (s) => {
  const chars = [...s]
  return JSON.stringify(chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : s)
}
const has = (object, key) => object !== undefined && Object.hasOwn(object, key)

/**
 * @param {Array<Awaited<ReturnType<typeof readReplicas>>[number]>} replicas
 * @param {Array<object>} ops the clients' history (Workload.ops)
 * @param {{ skewAllowance: number, lwwAllowance: number, withinSkew: number, mayLose: (op) => boolean }} rules
 */
export function check(replicas, ops, rules) {
  const anomalies = []
  const acked = (op) => op.outcome === 'ack'
  const sure = (op) => acked(op) && !rules.mayLose(op)
  const [first] = replicas
  const readEnd = Math.max(...replicas.map((r) => r.readEnd))
  const ttl = new Map(ops.filter((o) => o.collection === 't' && o.kind === 'save').map((o) => [o.key, o]))

  // Replicas equal, collection by collection; in `t`, an entry may differ only around its expiry.
  const names = new Set(replicas.flatMap((r) => Object.keys(r.collections)))
  replicas.forEach((r, i) => {
    if (r.digest !== first.digest)
      anomalies.push(`differ: peer ${i}'s digest ${r.digest} is not peer 0's ${first.digest}`)
    for (const name of names) {
      const [mine, theirs] = [r.collections[name] ?? {}, first.collections[name] ?? {}]
      for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
        if (has(mine, key) && has(theirs, key) && canonical(mine[key]) === canonical(theirs[key])) continue
        const op = name === 't' ? ttl.get(key) : undefined
        if (op !== undefined && has(mine, key) !== has(theirs, key) && nearExpiry(op, r, first, rules)) continue
        anomalies.push(`differ: peer ${i} and peer 0 hold different ${show(name)}/${show(key)}`)
      }
    }
    for (const counter of COUNTERS) {
      if (r.counters[counter] !== first.counters[counter])
        anomalies.push(`differ: peer ${i}'s counter ${show(counter)}`)
    }
  })
  const held = first.collections

  // Unique keys: each saved once; acknowledged ones there with their value, unless surely removed.
  let lost = 0
  const saves = new Map()
  const removes = new Map()
  for (const op of ops) {
    if (!UNIQUE_COLLECTIONS.includes(op.collection)) continue
    const id = `${op.collection}\u0001${op.key}`
    if (op.kind === 'save') saves.set(id, op)
    else removes.set(id, [...(removes.get(id) ?? []), op])
  }
  // Judged over every replica: a key on some of them only is a `differ` above, not a loss.
  for (const [id, save] of saves) {
    const { collection, key } = save
    const where = `${show(collection)}/${show(key)}`
    const gone = (removes.get(id) ?? []).some(sure)
    const maybeGone = (removes.get(id) ?? []).some((o) => o.outcome !== 'refused')
    const holders = replicas.filter((r) => has(r.collections[collection], key))
    const wrong = holders.find((r) => canonical(r.collections[collection][key]) !== canonical(save.value))
    if (wrong !== undefined) {
      anomalies.push(
        `corrupt: ${where} holds ${canonical(wrong.collections[collection][key])}, written ${canonical(save.value)}`
      )
    } else if (holders.length > 0 && gone) {
      anomalies.push(`back: ${where} was removed (acknowledged by peer ${removeBy(removes, id)})`)
    } else if (holders.length > 0 && save.outcome === 'refused') {
      anomalies.push(`invented: ${where} was refused, and is there`)
    } else if (holders.length === 0 && sure(save) && !maybeGone) {
      lost++
      const config = rules.configs?.[save.peer]
      if (lost <= 10) anomalies.push(`lost: ${where} (acknowledged by peer ${save.peer}, ${config}) is on no peer`)
    }
  }
  if (lost > 10) anomalies.push(`lost: ${lost} acknowledged unique keys in all`)
  const written = {
    h: (key) => HOT_KEYS.includes(key),
    t: (key) => ttl.has(key),
    evil: () => true // reported below, once
  }
  for (const name of names) {
    const known = written[name] ?? ((key) => saves.has(`${name}\u0001${key}`))
    const keys = new Set(replicas.flatMap((r) => Object.keys(r.collections[name] ?? {})))
    for (const key of keys) {
      if (!known(key)) anomalies.push(`invented: ${show(name)}/${show(key)} was never written`)
    }
  }
  if (Object.keys(held.evil ?? {}).length > 0) anomalies.push(`evil: the hostile peer's writes were stored`)

  checkHot(held.h ?? {}, ops, rules, sure, anomalies)
  checkCounters(first.counters, ops, sure, anomalies)
  checkTtl(replicas, ttl, rules, sure, readEnd, anomalies)
  return { anomalies, lost }
}

const removeBy = (removes, id) => removes.get(id).find((o) => o.outcome === 'ack')?.peer

/** Whether a TTL entry's deadline is close enough to the reads of `a` or `b` for them to disagree. */
function nearExpiry(op, a, b, { skewAllowance }) {
  const from = op.at + op.skew + op.expiresIn - skewAllowance
  const to = op.done + Math.max(op.skew, 0) + op.expiresIn + skewAllowance
  return from <= Math.max(a.readEnd, b.readEnd) && to >= Math.min(a.readStart, b.readStart)
}

/** Hot keys: there once acknowledged, holding a written value no older than the last sure write. */
function checkHot(held, ops, { lwwAllowance, withinSkew }, sure, anomalies) {
  for (const key of HOT_KEYS) {
    const writes = ops.filter((o) => o.collection === 'h' && o.key === key)
    if (!has(held, key)) {
      if (writes.some(sure)) anomalies.push(`hot gone: h/${key} was acknowledged ${writes.filter(sure).length} times`)
      continue
    }
    const v = writes.find((o) => o.value === held[key] && o.outcome !== 'refused')
    if (v === undefined) {
      anomalies.push(`hot: h/${key} is ${canonical(held[key])}, never written`)
      continue
    }
    // Its stamp is at most its peer's clock at the answer (plus what HLCs carry, in the allowance);
    // a later write on a peer within the skew bound carries a stamp of at least its own send time.
    const newer = writes.find(
      (w) => sure(w) && Math.abs(w.skew) <= withinSkew && w.at + w.skew > v.done + v.skew + lwwAllowance
    )
    if (newer !== undefined) {
      anomalies.push(
        `hot older: h/${key} holds ${v.value} (peer ${v.peer}), older than ${newer.value} acknowledged by peer ${newer.peer} ${newer.at - v.done} ms after`
      )
    }
  }
}

/** Counters: the acknowledged sum, widened by each op whose answer was lost or whose peer may lose it. */
function checkCounters(held, ops, sure, anomalies) {
  for (const counter of COUNTERS) {
    let sum = 0
    let up = 0
    let down = 0
    for (const op of ops) {
      if (op.kind !== 'count' || op.counter !== counter || op.outcome === 'refused') continue
      if (sure(op)) sum += op.delta
      else if (op.delta > 0) up++
      else down++
    }
    const value = held[counter]
    if (!(value >= sum - down && value <= sum + up)) {
      anomalies.push(`counter: ${show(counter)} is ${value}: acknowledged ${sum}, uncertain +${up}/-${down}`)
    }
  }
}

/** TTL keys: gone from every replica once expired, there on every replica until then. */
function checkTtl(replicas, ttl, { skewAllowance }, sure, readEnd, anomalies) {
  replicas.forEach((r, i) => {
    for (const [key, op] of ttl) {
      const there = has(r.collections.t, key)
      const deadline = op.at + op.skew + op.expiresIn
      if (there && r.readStart > op.done + Math.max(op.skew, 0) + op.expiresIn + skewAllowance) {
        anomalies.push(
          `alive: t/${show(key)} on peer ${i} (saved on peer ${op.peer}, expiresIn ${op.expiresIn}, skew ${op.skew}) expired ${r.readStart - deadline} ms before the reads`
        )
      }
      if (!there && sure(op) && deadline - skewAllowance > readEnd) {
        anomalies.push(
          `early: t/${show(key)} missing on peer ${i} (saved on peer ${op.peer}, expiresIn ${op.expiresIn}) ${deadline - readEnd} ms before its expiry`
        )
      }
    }
  })
}

/** The HTTP abuse's own record (abuse.mjs): what a peer that stayed up must have done. */
export function checkAbuse({ bursts, slows, oversizes }) {
  const anomalies = []
  for (const b of bursts) {
    if (b.stayedUp && b.answered < b.sent) {
      const why = Object.entries(b.failures ?? {}).map(([k, n]) => `${n} ${k}`)
      anomalies.push(`burst: peer ${b.peer} answered ${b.answered} of ${b.sent} concurrent requests ${why.join(', ')}`)
    }
  }
  for (const s of slows) {
    if (s.stayedUp && !s.cutByPeer) anomalies.push(`slow: a slow client of peer ${s.peer} was not cut off in 45 s`)
  }
  for (const o of oversizes) {
    if (o.stayedUp && o.status !== 413)
      anomalies.push(`oversize: an upload to peer ${o.peer} got ${o.status} instead of 413`)
  }
  return anomalies
}
