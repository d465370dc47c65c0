/**
 * Catch-up turns (src/sync/catch-up.ts): a round that gives up its place before its turn came
 * (its stream reset, its time up) still lets the next round go when the one before it ends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CatchUp } from '../../src/sync/catch-up.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('catch-up turns', () => {
  it('pass on when a waiting round is cut short, with no wait for the turn timeout', async () => {
    vi.useFakeTimers()
    const turns = new CatchUp()
    const first = turns.enter()
    await first.wait(new AbortController().signal)
    const cut = new AbortController()
    const second = turns.enter()
    const secondWaits = second.wait(cut.signal)
    cut.abort()
    await secondWaits
    second.release()
    const third = turns.enter()
    let thirdGoes = false
    const thirdWaits = third.wait(new AbortController().signal).then(() => {
      thirdGoes = true
    })
    await Promise.resolve()
    expect(thirdGoes).toBe(false)
    // The first round ends: the third goes at once (fake timers: the 30 s wait never passes).
    first.release()
    await thirdWaits
    expect(thirdGoes).toBe(true)
    third.release()
    turns.completed()
    const after = turns.enter()
    await after.wait(new AbortController().signal)
  })

  it("tell a waiting round whether this peer caught up meanwhile (the other side's digest is then stale)", async () => {
    const turns = new CatchUp()
    const signal = new AbortController().signal
    const first = turns.enter()
    expect(await first.wait(signal)).toBe(false)
    const second = turns.enter()
    const secondWaits = second.wait(signal)
    // The first round ends without completing (failed, or deferred): the second is not stale.
    first.release()
    expect(await secondWaits).toBe(false)
    const third = turns.enter()
    const thirdWaits = third.wait(signal)
    // The second completes (settled as the round ends, right after its release): the third waited behind a catch-up.
    second.release()
    turns.completed()
    expect(await thirdWaits).toBe(true)
    third.release()
    // Once caught up, a round takes no turn: nothing it holds is stale.
    expect(await turns.enter().wait(signal)).toBe(false)
  })
})
