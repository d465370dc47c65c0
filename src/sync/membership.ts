/**
 * What this peer knows of the swarm's members, and from it the watermark below which a dead
 * entry (tombstone or expired value) may be collected without coming back.
 *
 * `seen[X] = t` says: this replica holds everything member X held at time t (or something newer
 * for the same key). A completed sync round with Y makes it so for Y at the round's start, and,
 * transitively, for every member as of Y's own `seen` (sent in the round as Y's row): so rows are
 * merged by taking the larger time. Each member's row, as last received from it directly, gives
 * its reach: the time as of which it held everything every member held. The smallest reach of all
 * active members (this one's included) is the watermark: whatever any member held then, every
 * member holds now. An entry written before it (with a margin of the tombstone TTL, for clocks
 * and gossip in flight) can be collected: no member still holds an older version it would hide.
 *
 * A member silent for `memberTimeout` of this peer's running time (so that an outage of the whole
 * swarm does not count) is retired: the watermark stops waiting for it. A retired member may hold
 * versions whose removal was then collected, so rounds with it are refused (quarantine), as are
 * rounds with a peer that has heard from it since: an operator decides (docs/semantics.md).
 */
import type { MemberRow } from '../codec/sync.js'
import type { MembershipStatus } from '../contract.js'

export interface MembershipInit {
  /** This peer's id. */
  self: string
  /** Running time without news after which a member is retired, in ms. */
  memberTimeout: number
  now: () => number
  /** Called once for each member retired (its id). */
  onRetire?: (member: string) => void
}

/** What a peer persists of its membership, to carry it across a restart (meta.json). */
export interface MembershipState {
  /** Running time of this peer (ms, across restarts) on the clock silences are measured by. */
  uptime: number
  /** [member, seen, running time when last heard of, retired (1) or not (0)]. */
  members: Array<[string, number, number, number]>
  /** [member, its row as last received from it]. */
  rows: Array<[string, MemberRow]>
}

/** Most members remembered (retired ones included): beyond it the oldest retired are forgotten. */
const MAX_MEMBERS = 4096

export class Membership {
  readonly self: string
  private readonly init: MembershipInit
  private readonly seen = new Map<string, number>()
  /** Running time at which each member was last heard of (its `seen` grew, or it became known). */
  private readonly heard = new Map<string, number>()
  private readonly retired = new Set<string>()
  private readonly rows = new Map<string, Map<string, number>>()
  private uptime = 0
  private lastTick: number
  refused = 0

  constructor(init: MembershipInit) {
    this.init = init
    this.self = init.self
    this.lastTick = init.now()
  }

  /** Advances the running time (at most `cap` ms since the last tick counts) and retires silent members. */
  tick(cap = Number.POSITIVE_INFINITY): void {
    const now = this.init.now()
    this.uptime += Math.max(0, Math.min(now - this.lastTick, cap))
    this.lastTick = now
    for (const [member, heard] of this.heard) {
      if (!this.retired.has(member) && this.uptime - heard > this.init.memberTimeout) {
        this.retired.add(member)
        this.init.onRetire?.(member)
      }
    }
  }

  /** This peer's row: itself as of now, then every active member it knows. */
  row(): MemberRow {
    const row: MemberRow = [[this.self, this.init.now()]]
    for (const [member, seen] of this.seen) if (!this.retired.has(member)) row.push([member, seen])
    return row
  }

  /**
   * Why a round with `remote`, whose row is `row`, must not merge anything (quarantine), or
   * undefined when it may: `remote` is retired here, or has heard from a member retired here
   * after this peer last did (it may carry that member's old versions).
   */
  refusal(remote: string, row: MemberRow): string | undefined {
    if (this.retired.has(remote)) return `${remote} was retired here (silent for longer than memberTimeout)`
    for (const [member, seen] of row) {
      if (member !== this.self && this.retired.has(member) && seen > (this.seen.get(member) ?? 0)) {
        return `${remote} has heard from ${member}, which was retired here`
      }
    }
    return undefined
  }

  /** Records a completed round with `remote` that started at `start` (this peer's clock), `row` being what it sent. */
  merge(remote: string, row: MemberRow, start: number): void {
    this.raise(remote, start)
    const direct = new Map<string, number>()
    for (const [member, seen] of row) {
      direct.set(member, seen)
      if (member !== this.self && member !== remote) this.raise(member, seen)
    }
    this.rows.set(remote, direct)
    this.bound()
  }

  /**
   * The time as of which every active member held everything every active member held (ms since
   * the epoch); 0 when some member's reach is not known yet. A lone peer's is now.
   */
  watermark(): number {
    const now = this.init.now()
    let mark = now
    for (const [member, seen] of this.seen) if (!this.retired.has(member)) mark = Math.min(mark, seen)
    for (const member of this.seen.keys()) {
      if (this.retired.has(member)) continue
      const row = this.rows.get(member)
      if (row === undefined) return 0
      mark = Math.min(mark, row.get(member) ?? 0, row.get(this.self) ?? 0)
      for (const other of this.seen.keys()) if (!this.retired.has(other)) mark = Math.min(mark, row.get(other) ?? 0)
    }
    return mark
  }

  status(): MembershipStatus {
    return {
      members: 1 + [...this.seen.keys()].filter((m) => !this.retired.has(m)).length,
      retired: [...this.retired],
      watermark: this.watermark(),
      refused: this.refused
    }
  }

  toJSON(): MembershipState {
    return {
      uptime: this.uptime,
      members: [...this.seen].map(([m, seen]) => [m, seen, this.heard.get(m) ?? 0, this.retired.has(m) ? 1 : 0]),
      rows: [...this.rows].map(([m, row]) => [m, [...row]])
    }
  }

  /** Takes up what a data directory kept (before any round). */
  load(state: MembershipState): void {
    if (typeof state.uptime === 'number') this.uptime = state.uptime
    for (const [member, seen, heard, retired] of state.members ?? []) {
      if (typeof member !== 'string' || member === this.self) continue
      this.seen.set(member, Number(seen) || 0)
      this.heard.set(member, Number(heard) || 0)
      if (retired === 1) this.retired.add(member)
    }
    for (const [member, row] of state.rows ?? []) {
      if (typeof member === 'string' && Array.isArray(row)) this.rows.set(member, new Map(row))
    }
  }

  /** Learns that this replica holds `member`'s state as of `seen`; news (a later time, or a new member) resets its silence. */
  private raise(member: string, seen: number): void {
    // A retired member stays as it was retired: its later news is what quarantine looks for.
    if (this.retired.has(member)) return
    const known = this.seen.get(member)
    if (known !== undefined && known >= seen) return
    this.seen.set(member, seen)
    this.heard.set(member, this.uptime)
  }

  /** Forgets the retired members longest silent once more than MAX_MEMBERS are known. */
  private bound(): void {
    if (this.seen.size <= MAX_MEMBERS) return
    const oldest = [...this.retired].sort((a, b) => (this.heard.get(a) ?? 0) - (this.heard.get(b) ?? 0))
    for (const member of oldest.slice(0, this.seen.size - MAX_MEMBERS)) {
      this.seen.delete(member)
      this.heard.delete(member)
      this.retired.delete(member)
      this.rows.delete(member)
    }
  }
}
