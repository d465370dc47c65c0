/**
 * The chaos checker proven on recorded histories, without processes: a clean history reports
 * nothing, and each fault planted in it (a lost key, an older hot value, a removed key back, an
 * off-by-one counter, a TTL key gone early or alive late, a divergent replica, a collection
 * missing on one peer, an unanswered burst…) is reported under its class. A checker that finds
 * nothing proves nothing. The loss each configuration allows (promise.mjs) is allowed, no more.
 */
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { check, checkAbuse } from './check.mjs'
// @ts-expect-error: plain JavaScript modules, run by node directly
import { mayLose } from './promise.mjs'

interface Op {
  kind: string
  collection?: string
  key?: string
  counter?: string
  value?: unknown
  delta?: number
  expiresIn?: number
  peer: number
  skew: number
  at: number
  done: number
  outcome: string
}
type Replica = {
  digest: string
  collections: Record<string, Record<string, unknown>>
  counters: Record<string, number>
  readStart: number
  readEnd: number
}

const UNICODE = 'ü名😀'
const op = (o: Partial<Op>): Op => ({ kind: 'save', peer: 0, skew: 0, at: 0, done: 10, outcome: 'ack', ...o })

/** A history the replicas below agree with. */
function history(): Op[] {
  return [
    op({ collection: 'u', key: 'u1', value: { n: 1 } }),
    op({ collection: UNICODE, key: 'k\u0000😀e\u0301', value: 'x', peer: 1 }),
    op({ collection: 'u', key: 'u2', value: 2 }),
    op({ kind: 'remove', collection: 'u', key: 'u2', at: 20_000, done: 20_010 }),
    op({ collection: 'u', key: 'u3', value: 3, outcome: 'uncertain' }),
    op({ collection: 'u', key: 'u4', value: 4, outcome: 'refused' }),
    op({ collection: 'h', key: 'h0', value: 'w1', at: 1_000, done: 1_010 }),
    op({ collection: 'h', key: 'h0', value: 'w2', at: 50_000, done: 50_010, peer: 1 }),
    ...Array.from({ length: 5 }, () => op({ kind: 'count', counter: 'c0', delta: 1 })),
    op({ kind: 'count', counter: 'c0', delta: 1, outcome: 'uncertain' }),
    op({ collection: 't', key: 't1', value: 1, expiresIn: 1_000 }),
    op({ collection: 't', key: 't2', value: 2, expiresIn: 1e15 })
  ]
}

function replica(): Replica {
  return {
    digest: 'd',
    collections: {
      u: { u1: { n: 1 } },
      [UNICODE]: { 'k\u0000😀e\u0301': 'x' },
      h: { h0: 'w2' },
      t: { t2: 2 },
      evil: {}
    },
    counters: { c0: 5, c1: 0, c2: 0, 'ç😀': 0, '\u0000n': 0 },
    readStart: 100_000,
    readEnd: 100_500
  }
}

const configs = ['durable', 'durable', 'datadir', 'datadir', 'memory']
interface Timeline {
  configs: string[]
  stops: Array<{ peer: number; at: number; how: string }>
  cuts: Array<{ peers: number[]; from: number; to: number }>
  syncInterval: number
}
const noLoss: Timeline = { configs, stops: [], cuts: [], syncInterval: 2_000 }
const rules = (timeline: Timeline = noLoss) => ({
  configs,
  mayLose: mayLose(timeline),
  withinSkew: 2_000,
  skewAllowance: 3_000,
  lwwAllowance: 10_000
})

/** The classes of the anomalies found: the text before the first colon. */
function classes(replicas: Replica[], ops = history(), timeline: Timeline = noLoss): string[] {
  const { anomalies } = check(replicas, ops, rules(timeline))
  return [...new Set(anomalies.map((a: string) => a.split(':')[0]))].sort() as string[]
}

/** One replica (or two, the second changed) with `plant` applied to the last. */
function planted(plant: (r: Replica) => void, count = 1): Replica[] {
  const replicas = Array.from({ length: count }, replica)
  plant(replicas[count - 1])
  return replicas
}

describe('the chaos checker', () => {
  it('finds nothing wrong in a clean history, on one replica or three', () => {
    expect(check([replica()], history(), rules()).anomalies).toEqual([])
    expect(check([replica(), replica(), replica()], history(), rules()).anomalies).toEqual([])
    // The uncertain save may be there, and the uncertain increment counted.
    const maybe = planted((r) => {
      r.collections.u.u3 = 3
      r.counters.c0 = 6
    })
    expect(check(maybe, history(), rules()).anomalies).toEqual([])
  })

  it.each([
    ['lost', (r: Replica) => delete r.collections.u.u1],
    ['lost', (r: Replica) => delete r.collections[UNICODE]['k\u0000😀e\u0301']],
    ['corrupt', (r: Replica) => (r.collections.u.u1 = { n: 2 })],
    ['back', (r: Replica) => (r.collections.u.u2 = 2)],
    ['invented', (r: Replica) => (r.collections.u.u4 = 4)],
    ['invented', (r: Replica) => (r.collections.u.u9 = 9)],
    ['invented', (r: Replica) => (r.collections.elsewhere = { k: 1 })],
    ['hot older', (r: Replica) => (r.collections.h.h0 = 'w1')],
    ['hot gone', (r: Replica) => delete r.collections.h.h0],
    ['hot', (r: Replica) => (r.collections.h.h0 = 'never')],
    ['counter', (r: Replica) => (r.counters.c0 = 4)],
    ['counter', (r: Replica) => (r.counters.c0 = 7)],
    ['counter', (r: Replica) => (r.counters['ç😀'] = 1)],
    ['early', (r: Replica) => delete r.collections.t.t2],
    ['alive', (r: Replica) => (r.collections.t.t1 = 1)],
    ['evil', (r: Replica) => (r.collections.evil = { x: 1 })]
  ])('reports %s when it is planted', (kind, plant) => {
    expect(classes(planted(plant))).toContain(kind)
  })

  it.each([
    ['a value', (r: Replica) => (r.collections.u.u1 = { n: 2 })],
    ['a collection missing on one peer', (r: Replica) => delete r.collections[UNICODE]],
    ['a collection only one peer lists', (r: Replica) => (r.collections['\u0000'] = { k: 1 })],
    ['a TTL entry far from its expiry', (r: Replica) => delete r.collections.t.t2],
    ['a counter', (r: Replica) => (r.counters.c1 = 1)],
    ['the digest alone', (r: Replica) => (r.digest = 'e')]
  ])('reports replicas that differ in %s', (_what, plant) => {
    expect(classes(planted(plant, 2))).toContain('differ')
  })

  it('reports a key missing on some replicas as a difference, on all of them as lost, back on one as back', () => {
    expect(classes(planted((r) => delete r.collections.u.u1, 2))).toEqual(['differ'])
    const everywhere = [replica(), replica()]
    for (const r of everywhere) delete r.collections.u.u1
    expect(classes(everywhere)).toEqual(['lost'])
    expect(classes(planted((r) => (r.collections.u.u2 = 2), 2))).toEqual(['back', 'differ'])
  })

  it('lets TTL entries differ between peers only around their expiry', () => {
    const ops = [...history(), op({ collection: 't', key: 't3', value: 3, expiresIn: 100_200 })]
    const replicas = planted((r) => (r.collections.t.t3 = 3), 2)
    expect(classes(replicas, ops)).toEqual([])
  })

  it('judges LWW order by the clocks: a later write on a peer 1 h behind does not win', () => {
    const ops = [
      ...history(),
      op({ collection: 'h', key: 'h0', value: 'w3', at: 60_000, done: 60_010, skew: -3_600_000 })
    ]
    expect(classes([replica()], ops)).toEqual([])
  })
})

describe('what each configuration may lose', () => {
  const write = (peer: number, done: number) => [
    ...history(),
    op({ collection: 'u', key: 'w', value: 'w', peer, at: done - 5, done })
  ]
  const killedAt = (peer: number, at: number, how = 'kill', cuts: Timeline['cuts'] = []): Timeline => ({
    ...noLoss,
    stops: [{ peer, at, how }],
    cuts
  })

  it('a durable peer nothing, even acknowledged just before a kill -9', () => {
    expect(classes([replica()], write(0, 59_900), killedAt(0, 60_000))).toEqual(['lost'])
  })

  it('a data directory peer the last fsync window before a kill -9, no more, and nothing on SIGTERM', () => {
    expect(classes([replica()], write(2, 59_900), killedAt(2, 60_000))).toEqual([])
    expect(classes([replica()], write(2, 55_000), killedAt(2, 60_000))).toEqual(['lost'])
    expect(classes([replica()], write(2, 59_900), killedAt(2, 60_000, 'term'))).toEqual(['lost'])
  })

  it('a memory-only peer what no other peer holds: just before a stop, or while it was cut off', () => {
    expect(classes([replica()], write(4, 59_900), killedAt(4, 60_000, 'term'))).toEqual([])
    expect(classes([replica()], write(4, 50_000), killedAt(4, 60_000))).toEqual(['lost'])
    const cut = [{ peers: [4], from: 49_000, to: 59_000 }]
    expect(classes([replica()], write(4, 50_000), killedAt(4, 60_000, 'kill', cut))).toEqual([])
  })

  it('widens a counter by the increments a kill may have taken', () => {
    const ops = [...history(), op({ kind: 'count', counter: 'c1', delta: 1, peer: 2, at: 59_800, done: 59_900 })]
    const replicas = [replica()]
    expect(classes(replicas, ops, killedAt(2, 60_000))).toEqual([])
    expect(classes(replicas, ops, killedAt(0, 60_000))).toEqual(['counter'])
  })
})

describe('the HTTP abuse checks', () => {
  const clean = {
    bursts: [{ peer: 0, sent: 200, answered: 200, stayedUp: true }],
    slows: [{ peer: 1, cutByPeer: true, stayedUp: true }],
    oversizes: [{ peer: 2, status: 413, stayedUp: true }]
  }

  it('find nothing wrong when every request was answered and every slow client cut off', () => {
    expect(checkAbuse(clean)).toEqual([])
    // A peer that was paused, killed or restarted meanwhile is excused.
    const excused = {
      bursts: [{ peer: 0, sent: 200, answered: 3, stayedUp: false }],
      slows: [{ peer: 1, cutByPeer: false, stayedUp: false }],
      oversizes: [{ peer: 2, status: 'ECONNRESET', stayedUp: false }]
    }
    expect(checkAbuse(excused)).toEqual([])
  })

  it('report an unanswered burst request, a slow client that gave up on its own, a reset upload', () => {
    const kinds = (record: object) => checkAbuse({ ...clean, ...record }).map((a: string) => a.split(':')[0])
    expect(kinds({ bursts: [{ peer: 0, sent: 200, answered: 199, stayedUp: true }] })).toEqual(['burst'])
    expect(kinds({ slows: [{ peer: 1, cutByPeer: false, stayedUp: true }] })).toEqual(['slow'])
    expect(kinds({ oversizes: [{ peer: 2, status: 'ECONNRESET', stayedUp: true }] })).toEqual(['oversize'])
  })
})
