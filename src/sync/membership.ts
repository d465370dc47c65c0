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
import { MAX_ROW_MEMBERS, type MemberRow } from '../codec/sync.js'
import type { MembershipStatus } from '../contract.js'

export interface MembershipInit {
  /** This peer's id. */
  self: string
  /** Running time without news after which a member is retired, in ms. */
  memberTimeout: number
  now: () => number
  /**
   * Largest lead of another peer's clock over this one's that is believed, in ms: a member time
   * in a row further ahead than that is taken as now plus it, so that no row (a wrong clock, a
   * hostile peer) can make a member look heard of far into the future. @default unbounded
   */
  maxSkew?: number
  /**
   * Whether this peer belongs to a swarm it has not met yet (bootstrap peers given, or a
   * connection seen): then knowing no member is not being alone, and nothing is collected
   * until a round tells it who the members are. @default never
   */
  expectsPeers?: () => boolean
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
  /** Running time until which the watermark holds every collection back (see {@link Membership.distrust}). */
  holdUntil?: number
}

/** Most members remembered (retired ones included): beyond it the oldest retired are forgotten. */
const MAX_MEMBERS = 4096

/**
 * Members one row may introduce (members not known here before): a swarm gains a few at a time,
 * and a row inventing thousands would make every peer wait for members that never answer.
 */
const MAX_NEW_PER_ROW = 256

export class Membership {
  readonly self: string
  private readonly init: MembershipInit
  private readonly seen = new Map<string, number>()
  /** Running time at which each member was last heard of (its `seen` grew, or it became known). */
  private readonly heard = new Map<string, number>()
  private readonly retired = new Set<string>()
  private readonly rows = new Map<string, Map<string, number>>()
  /** Members that left for good (a leave notice): other peers' rows do not bring them back. */
  private readonly left = new Set<string>()
  private uptime = 0
  /** Running time until which no collection may happen: what this peer knew of its members was lost. */
  private holdUntil = 0
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
    for (const [member, seen] of this.seen) {
      // Never more than a receiver decodes: a row over the limit would fail every round.
      if (row.length >= MAX_ROW_MEMBERS) break
      if (!this.retired.has(member)) row.push([member, seen])
    }
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
    // A round with a member that had left: it is back (with a fresh replica), and counts again.
    this.left.delete(remote)
    this.raise(remote, start)
    // A completed round is news of `remote` itself, whatever its row says.
    if (!this.retired.has(remote)) this.heard.set(remote, this.uptime)
    const latest = this.init.now() + (this.init.maxSkew ?? Number.POSITIVE_INFINITY)
    const direct = new Map<string, number>()
    let introduced = 0
    for (const [member, time] of row) {
      const seen = Math.min(time, latest)
      direct.set(member, seen)
      if (member === this.self || member === remote) continue
      if (!this.seen.has(member) && ++introduced > MAX_NEW_PER_ROW) continue
      this.raise(member, seen)
    }
    this.rows.set(remote, direct)
    this.bound()
  }

  /**
   * Forgets `member`, which left for good (it holds nothing across a restart, so nothing it held
   * can come back): collection no longer waits for it, and other peers' rows do not bring it back.
   */
  forget(member: string): void {
    if (member === this.self) return
    this.seen.delete(member)
    this.heard.delete(member)
    this.retired.delete(member)
    this.rows.delete(member)
    this.left.add(member)
    // Bounded like the members: the oldest notices go first.
    if (this.left.size > MAX_MEMBERS) this.left.delete(this.left.values().next().value as string)
  }

  /**
   * Holds every collection back for `memberTimeout` of running time: this peer holds entries but
   * lost what it knew of its members (no or a damaged meta.json), so it cannot tell which of them
   * still miss a removal; by then every member still alive has been heard from again.
   */
  distrust(): void {
    this.holdUntil = this.uptime + this.init.memberTimeout
  }

  /**
   * The time as of which every active member held everything every active member held (ms since
   * the epoch); 0 when some member's reach is not known yet. A lone peer's is now.
   */
  watermark(): number {
    if (this.uptime < this.holdUntil) return 0
    // Not alone, only cut off before its first round (a restarted memory-only peer, say): its
    // removals have reached no one, and collecting them would let the others' values back.
    if (this.seen.size === 0 && this.init.expectsPeers?.() === true) return 0
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
      rows: [...this.rows].map(([m, row]) => [m, [...row]]),
      holdUntil: this.holdUntil
    }
  }

  /**
   * Takes up what a data directory kept (before any round). Returns false, taking nothing, when
   * `state` is not a membership this code wrote (missing, damaged, of another version).
   */
  load(state: unknown): boolean {
    if (!isState(state)) return false
    this.uptime = state.uptime
    this.holdUntil = typeof state.holdUntil === 'number' ? state.holdUntil : 0
    for (const [member, seen, heard, retired] of state.members) {
      if (member === this.self) continue
      this.seen.set(member, seen)
      this.heard.set(member, heard)
      if (retired === 1) this.retired.add(member)
    }
    for (const [member, row] of state.rows) this.rows.set(member, new Map(row))
    return true
  }

  /** Learns that this replica holds `member`'s state as of `seen`; news (a later time, or a new member) resets its silence. */
  private raise(member: string, seen: number): void {
    // A retired member stays as it was retired: its later news is what quarantine looks for.
    if (this.retired.has(member) || this.left.has(member)) return
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

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** Whether `v` has the shape {@link Membership.toJSON} writes, every field of it. */
function isState(v: unknown): v is MembershipState {
  if (typeof v !== 'object' || v === null) return false
  const { uptime, members, rows } = v as Record<string, unknown>
  return (
    isTime(uptime) &&
    Array.isArray(members) &&
    members.every(
      (m) =>
        Array.isArray(m) &&
        m.length === 4 &&
        typeof m[0] === 'string' &&
        isTime(m[1]) &&
        isTime(m[2]) &&
        (m[3] === 0 || m[3] === 1)
    ) &&
    Array.isArray(rows) &&
    rows.every(
      (r) =>
        Array.isArray(r) &&
        r.length === 2 &&
        typeof r[0] === 'string' &&
        Array.isArray(r[1]) &&
        r[1].every((p: unknown) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && isTime(p[1]))
    )
  )
}
