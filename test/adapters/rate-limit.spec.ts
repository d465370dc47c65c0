import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SharedMemRateLimitStore } from '../../src/adapters/rate-limit.js'
import type { SharedMemPeer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { killAll } from '../fixtures/processes.js'
import { type App, type Hit, startApps } from '../fixtures/rate-limit/apps.js'
import { waitFor } from '../fixtures/wait.js'

const LIMIT = 10
/** Long enough for a few dozen requests, each waiting for the other process to catch up. */
const WINDOW_MS = 8_000

describe('SharedMemRateLimitStore on one embedded peer', () => {
  let peer: SharedMemPeer
  beforeAll(async () => {
    peer = await startPeer({ rendezvous: false })
  })
  afterAll(stopAll)

  const store = (windowMs: number): SharedMemRateLimitStore => {
    const s = new SharedMemRateLimitStore({ peer, prefix: `t${windowMs}:` })
    s.init({ windowMs } as Parameters<SharedMemRateLimitStore['init']>[0])
    return s
  }

  it('counts hits in one window and reports its deadline on every hit', async () => {
    const s = store(60_000)
    const before = Date.now()
    const first = await s.increment('a')
    const second = await s.increment('a')
    expect(first.totalHits).toBe(1)
    expect(second.totalHits).toBe(2)
    expect(second.resetTime?.getTime()).toBe(first.resetTime?.getTime())
    expect(first.resetTime?.getTime()).toBeGreaterThanOrEqual(before + 60_000)
    expect(await s.get('a')).toEqual(second)
    expect(await s.get('nobody')).toBeUndefined()
    expect(s.localKeys).toBe(false)
  })

  it('decrements, resets a key, and resets every key', async () => {
    const s = store(60_000)
    await s.increment('x')
    await s.increment('x')
    await s.decrement('x')
    expect((await s.get('x'))?.totalHits).toBe(1)
    await s.resetKey('x')
    expect(await s.get('x')).toBeUndefined()
    for (const key of ['p', 'q', 'r']) await s.increment(key)
    await s.resetAll()
    for (const key of ['p', 'q', 'r']) expect(await s.get(key)).toBeUndefined()
    expect((await s.increment('p')).totalHits).toBe(1)
  })

  it('starts a new window, counting from 1, once the window has ended', async () => {
    const s = store(300)
    await s.increment('w')
    const last = await s.increment('w')
    expect(last.totalHits).toBe(2)
    await waitFor(async () => (await s.get('w')) === undefined, 'the window to end', { timeout: 10_000, interval: 50 })
    const next = await s.increment('w')
    expect(next.totalHits).toBe(1)
    expect(next.resetTime?.getTime()).toBeGreaterThan(last.resetTime?.getTime() ?? Number.POSITIVE_INFINITY)
  })

  it('refuses a store without a peer, with ERR_INVALID_ARGUMENT', () => {
    expect(() => new SharedMemRateLimitStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })
    )
  })
})

describe(`express-rate-limit on SharedMemRateLimitStore, two processes, ${LIMIT} per window`, () => {
  let a: App
  let b: App
  beforeAll(async () => {
    ;[a, b] = await startApps({ LIMIT: String(LIMIT), WINDOW_MS: String(WINDOW_MS) })
  })
  afterAll(killAll)

  /** Waits until `app` reports `used` hits of `client` and the same deadline. */
  const caughtUp = (app: App, client: string, hit: Hit) =>
    waitFor(async () => {
      const state = await app.state(client)
      return state?.totalHits === hit.used && state.resetTime === hit.resetTime
    }, `the other process to see hit ${hit.used}`)

  it('holds the limit across both processes: exactly the limit when each request follows the last one seen', async () => {
    // Each request goes to the other process once it has seen every hit before it: no increment
    // is in flight, so the bound of docs/semantics.md (L + (N − 1)·r·d) is L itself.
    const hits: Hit[] = []
    for (let i = 0; i < LIMIT + 4; i++) {
      const [to, other] = i % 2 === 0 ? [a, b] : [b, a]
      const hit = await to.hit('sequential')
      hits.push(hit)
      await caughtUp(other, 'sequential', hit)
    }
    expect(hits.map((h) => h.used)).toEqual(Array.from({ length: LIMIT + 4 }, (_, i) => i + 1))
    expect(hits.map((h) => h.status)).toEqual([...Array(LIMIT).fill(200), ...Array(4).fill(429)])
    // One window, one deadline, the same in both processes.
    expect(new Set(hits.map((h) => h.resetTime)).size).toBe(1)
  })

  it('admits at least the limit under concurrent load, and both processes end with every hit counted', async () => {
    // The window is opened first: two processes that open one at the same moment open two, and the
    // hits counted in the one that loses are lost (docs/semantics.md, "Windows").
    const opening = await a.hit('burst')
    await caughtUp(b, 'burst', opening)
    const perProcess = 15
    const burst = (app: App) => Promise.all(Array.from({ length: perProcess }, () => app.hit('burst')))
    const [fromA, fromB] = await Promise.all([burst(a), burst(b)])
    const admitted = (hits: Hit[]) => hits.filter((h) => h.status === 200).length
    // Never fewer than L; at most L plus what the other process admitted unseen (the bound with
    // every one of its increments in flight: docs/semantics.md).
    expect(1 + admitted(fromA) + admitted(fromB)).toBeGreaterThanOrEqual(LIMIT)
    expect(1 + admitted(fromA)).toBeLessThanOrEqual(LIMIT + admitted(fromB))
    expect(admitted(fromB)).toBeLessThanOrEqual(LIMIT + 1 + admitted(fromA))
    let states: unknown[] = []
    await waitFor(
      async () => {
        states = await Promise.all([a.state('burst'), b.state('burst')])
        const [sa, sb] = states as Awaited<ReturnType<App['state']>>[]
        const total = 1 + 2 * perProcess
        return (
          sa?.totalHits === total &&
          sb?.totalHits === total &&
          sa.resetTime === opening.resetTime &&
          sb.resetTime === opening.resetTime
        )
      },
      () =>
        `both processes to count all hits and keep the window's deadline (seen ${JSON.stringify(states)}, opened ${opening.resetTime})`
    )
  })

  it('starts a new window fresh once the window has ended, in both processes', async () => {
    const first = await a.hit('renewed')
    await caughtUp(b, 'renewed', first)
    for (let i = 0; i < LIMIT; i++) await b.hit('renewed')
    expect((await b.hit('renewed')).status).toBe(429)
    // Bounded by the window's length and a margin: polled, never slept for a fixed while.
    await waitFor(
      async () => (await a.state('renewed')) === null && (await b.state('renewed')) === null,
      'the window to end',
      {
        timeout: WINDOW_MS + 10_000,
        interval: 100
      }
    )
    const fresh = await b.hit('renewed')
    expect(fresh).toMatchObject({ status: 200, used: 1 })
    expect(fresh.resetTime).toBeGreaterThan(first.resetTime ?? Number.POSITIVE_INFINITY)
    await caughtUp(a, 'renewed', fresh)
    expect((await a.hit('renewed')).used).toBe(2)
  })

  it('resets one client, then every client, in both processes', async () => {
    for (const client of ['r1', 'r2']) for (let i = 0; i < LIMIT + 1; i++) await a.hit(client)
    await a.reset('r1')
    await waitFor(
      async () => (await b.state('r1')) === null && (await b.state('r2'))?.totalHits === LIMIT + 1,
      'the reset of r1, and the hits of r2, to reach the other process'
    )
    await b.reset()
    await waitFor(async () => (await a.state('r2')) === null, 'the reset of every client to reach the other process')
    expect((await a.hit('r2')).status).toBe(200)
  })
})
