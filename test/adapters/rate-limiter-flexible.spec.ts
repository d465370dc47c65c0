import { RateLimiterRes } from 'rate-limiter-flexible'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RateLimiterSharedMem } from '../../src/adapters/rate-limiter-flexible.js'
import type { SharedMemPeer } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { killAll } from '../fixtures/processes.js'
import { type App, startApps } from '../fixtures/rate-limit/apps.js'
import { waitFor } from '../fixtures/wait.js'

describe('RateLimiterSharedMem on one embedded peer', () => {
  let peer: SharedMemPeer
  let n = 0
  /** A limiter of its own key prefix, so that the cases do not share counters. */
  const limiter = (options: { points: number; duration: number; blockDuration?: number }) =>
    new RateLimiterSharedMem({ peer, keyPrefix: `case${++n}`, ...options })
  beforeAll(async () => {
    peer = await startPeer({ rendezvous: false })
  })
  afterAll(stopAll)

  it('resolves a RateLimiterRes while points remain, and rejects with one past them', async () => {
    const rl = limiter({ points: 3, duration: 60 })
    const first = await rl.consume('k')
    expect(first).toBeInstanceOf(RateLimiterRes)
    expect(first).toMatchObject({ consumedPoints: 1, remainingPoints: 2, isFirstInDuration: true })
    expect(first.msBeforeNext).toBeGreaterThan(50_000)
    expect(first.msBeforeNext).toBeLessThanOrEqual(60_000)
    expect(await rl.consume('k', 2)).toMatchObject({ consumedPoints: 3, remainingPoints: 0, isFirstInDuration: false })
    const over = await rl.consume('k').catch((res: unknown) => res)
    expect(over).toBeInstanceOf(RateLimiterRes)
    expect(over).toMatchObject({ consumedPoints: 4, remainingPoints: 0 })
    expect(await rl.get('k')).toMatchObject({ consumedPoints: 4 })
    expect(await rl.get('nobody')).toBeNull()
  })

  it('adds a penalty, takes a reward, deletes a key', async () => {
    const rl = limiter({ points: 5, duration: 60 })
    expect(await rl.penalty('p', 3)).toMatchObject({ consumedPoints: 3, remainingPoints: 2 })
    expect(await rl.reward('p', 2)).toMatchObject({ consumedPoints: 1, remainingPoints: 4 })
    expect(await rl.delete('p')).toBe(true)
    expect(await rl.get('p')).toBeNull()
    expect(await rl.delete('p')).toBe(false)
    expect(await rl.consume('p')).toMatchObject({ consumedPoints: 1, isFirstInDuration: true })
  })

  it('blocks for blockDuration once points are exceeded, and for block(key, s)', async () => {
    const rl = limiter({ points: 1, duration: 60, blockDuration: 30 })
    await rl.consume('b')
    const blocked = await rl.consume('b').catch((res: unknown) => res as RateLimiterRes)
    expect(blocked.msBeforeNext).toBe(30_000)
    const later = await rl.consume('b').catch((res: unknown) => res as RateLimiterRes)
    expect(later.consumedPoints).toBeGreaterThan(1)
    expect(later.msBeforeNext).toBeLessThanOrEqual(30_000)
    expect(later.msBeforeNext).toBeGreaterThan(20_000)
    await rl.block('c', 5)
    const c = await rl.consume('c').catch((res: unknown) => res as RateLimiterRes)
    expect(c).toMatchObject({ consumedPoints: 3, remainingPoints: 0 })
    expect(c.msBeforeNext).toBeLessThanOrEqual(5_000)
  })

  it('sets points for a while with set(), then counts from them', async () => {
    const rl = limiter({ points: 10, duration: 60 })
    await rl.consume('s', 7)
    await rl.set('s', 2, 20)
    const after = await rl.consume('s')
    expect(after.consumedPoints).toBe(3)
    expect(after.msBeforeNext).toBeLessThanOrEqual(20_000)
  })

  it('never resets points with duration 0 (msBeforeNext -1)', async () => {
    const rl = limiter({ points: 2, duration: 0 })
    expect(await rl.consume('forever')).toMatchObject({ consumedPoints: 1, msBeforeNext: -1 })
  })

  it('starts a new duration, counting from 0, once the duration has passed', async () => {
    const rl = limiter({ points: 1, duration: 1 })
    await rl.consume('d')
    await expect(rl.consume('d')).rejects.toMatchObject({ consumedPoints: 2 })
    await waitFor(async () => (await rl.get('d')) === null, 'the duration to pass', { timeout: 10_000, interval: 50 })
    expect(await rl.consume('d')).toMatchObject({ consumedPoints: 1, isFirstInDuration: true })
  })

  it('refuses a limiter without a peer, with ERR_INVALID_ARGUMENT', () => {
    expect(() => new RateLimiterSharedMem({ points: 1, duration: 1 } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })
    )
  })
})

describe('RateLimiterSharedMem in two processes: 5 points per 30 s, blocked 20 s past them', () => {
  let a: App
  let b: App
  beforeAll(async () => {
    ;[a, b] = await startApps({ POINTS: '5', DURATION: '30', BLOCK_DURATION: '20' })
  })
  afterAll(killAll)

  /** Waits until `app`'s get(key) has `consumed` points (null: none). */
  const seen = (app: App, key: string, consumed: number | null) =>
    waitFor(async () => {
      const { result } = await app.call('get', key)
      return consumed === null ? result === null : result?.consumedPoints === consumed
    }, `get(${key}) to show ${consumed} on the other process`)

  it('shares the points: consumed on either process, refused on both past them, then blocked on both', async () => {
    for (let i = 1; i <= 5; i++) {
      const [to, other] = i % 2 === 0 ? [a, b] : [b, a]
      const reply = await to.call('consume', 'ip')
      expect(reply).toMatchObject({ ok: true, result: { consumedPoints: i, remainingPoints: 5 - i } })
      await seen(other, 'ip', i)
    }
    const refused = await a.call('consume', 'ip')
    expect(refused).toMatchObject({
      ok: false,
      result: { consumedPoints: 6, remainingPoints: 0, msBeforeNext: 20_000 }
    })
    // The block is seen by the other process, and lasts its own 20 s, not what remains of the 30 s.
    await seen(b, 'ip', 6)
    const onB = await b.call('consume', 'ip')
    expect(onB.ok).toBe(false)
    expect(onB.result?.msBeforeNext).toBeLessThanOrEqual(20_000)
    expect(onB.result?.msBeforeNext).toBeGreaterThan(10_000)
  })

  it('penalty and reward on one process show on the other; delete frees the key on both', async () => {
    await a.call('penalty', 'pr', 3)
    await seen(b, 'pr', 3)
    await b.call('reward', 'pr', 2)
    await seen(a, 'pr', 1)
    expect(await a.call('delete', 'pr')).toEqual({ ok: true, result: true })
    await seen(b, 'pr', null)
    expect(await b.call('consume', 'pr')).toMatchObject({
      ok: true,
      result: { consumedPoints: 1, isFirstInDuration: true }
    })
  })

  it('block(key, s) on one process refuses the key on the other for that long', async () => {
    await a.call('block', 'blocked', 8)
    await waitFor(async () => (await b.call('get', 'blocked')).result !== null, 'the block to reach the other process')
    const reply = await b.call('consume', 'blocked')
    expect(reply.ok).toBe(false)
    expect(reply.result?.msBeforeNext).toBeLessThanOrEqual(8_000)
    expect(reply.result?.msBeforeNext).toBeGreaterThan(0)
  })
})
