/**
 * The membership behind the collection watermark, attacked with rows no honest peer sends: member
 * times far in the future (a wrong clock, a hostile peer), thousands of invented members, and a
 * data directory whose membership was lost. None may quarantine honest peers, stop every round,
 * or let collection run while this peer cannot tell who still misses a removal.
 */
import { describe, expect, it } from 'vitest'
import type { MemberRow } from '../../src/codec/sync.js'
import { MAX_ROW_MEMBERS } from '../../src/codec/sync.js'
import { Membership } from '../../src/sync/membership.js'
import { PEER_IDS } from '../fixtures/entries.js'

const DAY = 24 * 3_600_000
const SKEW = 60_000
const [SELF, HONEST, LIAR] = PEER_IDS

function membership(clock: { now: number }): Membership {
  return new Membership({ self: SELF, memberTimeout: DAY, now: () => clock.now, maxSkew: SKEW })
}

describe('membership against rows no honest peer sends', () => {
  it('a member time far in the future does not keep an honest member from being heard of again', () => {
    const clock = { now: 1_700_000_000_000 }
    const m = membership(clock)
    m.merge(HONEST, [[HONEST, clock.now]], clock.now)
    // The liar says it heard from HONEST at the end of time: taken as at most now + maxSkew.
    m.merge(
      LIAR,
      [
        [LIAR, clock.now],
        [HONEST, Number.MAX_SAFE_INTEGER]
      ],
      clock.now
    )
    expect(m.toJSON().members.find(([id]) => id === HONEST)?.[1]).toBeLessThanOrEqual(clock.now + SKEW)
    // A day passes with rounds with HONEST every hour (and none with the liar): HONEST stays a member.
    for (let hour = 0; hour < 26; hour++) {
      clock.now += 3_600_000
      m.tick()
      m.merge(HONEST, [[HONEST, clock.now]], clock.now)
    }
    expect(m.status().retired).toEqual([LIAR])
    expect(m.refusal(HONEST, [[HONEST, clock.now]])).toBeUndefined()
  })

  it('a row inventing thousands of members introduces a bounded number, and its own row always decodes', () => {
    const clock = { now: 1_700_000_000_000 }
    const m = membership(clock)
    const invented = Array.from({ length: 5000 }, (_, i) => `${PEER_IDS[3]}${i}`)
    const row: MemberRow = [[LIAR, clock.now], ...invented.map((id): [string, number] => [id, clock.now])]
    m.merge(LIAR, row, clock.now)
    expect(m.status().members).toBe(2 + 256) // itself, the liar, and 256 introduced
    for (let round = 1; round < 20; round++) m.merge(LIAR, row, clock.now)
    expect(m.status().members).toBeGreaterThan(MAX_ROW_MEMBERS)
    expect(m.row().length).toBeLessThanOrEqual(MAX_ROW_MEMBERS)
  })

  it('takes nothing from a damaged state, and then holds every collection back for memberTimeout', () => {
    const clock = { now: 1_700_000_000_000 }
    const m = membership(clock)
    for (const damaged of [
      undefined,
      null,
      'x',
      { uptime: 1 },
      { uptime: 1, members: {}, rows: [] },
      { uptime: 1, members: [['a']], rows: [] }
    ]) {
      expect(m.load(damaged)).toBe(false)
    }
    expect(m.watermark()).toBe(clock.now) // a lone peer with nothing to wait for
    m.distrust()
    expect(m.watermark()).toBe(0)
    clock.now += DAY / 2
    m.tick()
    expect(m.watermark()).toBe(0)
    // The hold is kept across a restart, and ends after memberTimeout of running time.
    const again = membership(clock)
    expect(again.load(JSON.parse(JSON.stringify(m.toJSON())))).toBe(true)
    expect(again.watermark()).toBe(0)
    clock.now += DAY / 2 + 1
    again.tick()
    expect(again.watermark()).toBe(clock.now)
  })

  it('forgets a member that left for good; rows do not bring it back, a round with it does', () => {
    const clock = { now: 1_700_000_000_000 }
    const m = membership(clock)
    m.merge(HONEST, [[HONEST, clock.now]], clock.now)
    m.merge(
      LIAR,
      [
        [LIAR, clock.now],
        [HONEST, clock.now]
      ],
      clock.now
    )
    expect(m.status().members).toBe(3)
    m.forget(HONEST)
    expect(m.status().members).toBe(2)
    m.merge(
      LIAR,
      [
        [LIAR, clock.now + 1],
        [HONEST, clock.now + 1]
      ],
      clock.now + 1
    )
    expect(m.status().members).toBe(2)
    // It came back (a fresh replica under the same id): it counts again.
    m.merge(HONEST, [[HONEST, clock.now + 2]], clock.now + 2)
    expect(m.status().members).toBe(3)
    m.forget(SELF)
    expect(m.status().members).toBe(3)
  })
})
