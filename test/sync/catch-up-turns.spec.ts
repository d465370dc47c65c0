/**
 * Catch-up turns (src/sync/catch-up.ts): a round that gives up its place before its turn came
 * (its stream reset, its time up) still lets the next round go when the one before it ends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CATCH_UP_OPENING_WAIT, CATCH_UP_TURN_WAIT } from '../../src/constants.js'
import { CatchUp } from '../../src/sync/catch-up.js'

afterEach(() => {
  vi.useRealTimers()
})

const signal = new AbortController().signal

/** When `wait` resolves, in ms after this call (-1 until then). */
function when(wait: Promise<unknown>): { at: number; start: number } {
  const start = Date.now()
  const seen = { at: -1, start }
  void wait.then(() => {
    seen.at = Date.now() - start
  })
  return seen
}

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

  it('let a round this peer opens send its digest once the one opened before has its leaves and the turns taken by then are done', async () => {
    vi.useFakeTimers()
    const turns = new CatchUp()
    const first = turns.open()
    await first.wait(signal)
    const second = turns.open()
    const secondGoes = when(second.wait(signal))
    await vi.advanceTimersByTimeAsync(CATCH_UP_OPENING_WAIT - 1)
    expect(secondGoes.at).toBe(-1)
    // The first has its leaves and takes a turn: the second waits for that turn now.
    const turn = turns.enter()
    first.release()
    await turn.wait(signal)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(secondGoes.at).toBe(-1)
    turn.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(secondGoes.at).toBe(CATCH_UP_OPENING_WAIT - 1 + 1_000)
    second.release()
  })

  it('let a round go after CATCH_UP_OPENING_WAIT behind one whose peer never answers, and not wait at all once caught up', async () => {
    vi.useFakeTimers()
    const turns = new CatchUp()
    const hung = turns.open()
    await hung.wait(signal)
    const next = when(turns.open().wait(signal))
    await vi.advanceTimersByTimeAsync(CATCH_UP_OPENING_WAIT - 1)
    expect(next.at).toBe(-1)
    await vi.advanceTimersByTimeAsync(1)
    expect(next.at).toBe(CATCH_UP_OPENING_WAIT)
    turns.completed()
    const after = when(turns.open().wait(signal))
    await vi.advanceTimersByTimeAsync(0)
    expect(after.at).toBe(0)
  })

  it('send the digests of rounds opened at once one at a time, however long the first waits for its leaves', async () => {
    vi.useFakeTimers()
    const turns = new CatchUp()
    // Five rounds opened in one tick (a joiner meeting five peers); no peer answers.
    const sent = [0, 1, 2, 3, 4].map(() => when(turns.open().wait(signal)))
    await vi.advanceTimersByTimeAsync(5 * CATCH_UP_OPENING_WAIT)
    expect(sent.map((s) => s.at)).toEqual([0, 1, 2, 3, 4].map((i) => i * CATCH_UP_OPENING_WAIT))
  })

  it('count the wait for the turns before a digest towards the round’s own turn: a stalled round holds the next back once', async () => {
    vi.useFakeTimers()
    const turns = new CatchUp()
    const first = turns.open()
    const second = turns.open()
    await first.wait(signal)
    const secondWaits = second.wait(signal)
    const secondSent = when(secondWaits)
    // The first round has its leaves at 100 ms, takes its turn and stalls, holding it.
    await vi.advanceTimersByTimeAsync(100)
    const stalled = turns.enter()
    first.release()
    await stalled.wait(signal)
    // A third round opened now waits behind the second, and for the stalled one's turn no longer than it.
    const third = turns.open()
    const thirdSent = when(third.wait(signal))
    await vi.advanceTimersByTimeAsync(CATCH_UP_TURN_WAIT)
    const until = await secondWaits
    expect(secondSent.at).toBe(CATCH_UP_TURN_WAIT)
    await vi.advanceTimersByTimeAsync(CATCH_UP_OPENING_WAIT)
    expect(thirdSent.at).toBe(CATCH_UP_TURN_WAIT)
    third.release()
    // Its leaves come: its turn waits no longer.
    const turn = when(turns.enter(until).wait(signal))
    second.release()
    await vi.advanceTimersByTimeAsync(0)
    expect(turn.at).toBe(0)
  })
})
