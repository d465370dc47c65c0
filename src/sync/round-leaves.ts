/**
 * What a responder compares before it sends buckets back: what it held at the round's start, and
 * its leaves as of then with this round's own merges applied and no other change. Writes that
 * reach it meanwhile (gossip, its own saves) are not part of the state the round hands over, and
 * the initiator has most of them by gossip already; compared against the live leaves alone, each
 * such write made its whole bucket differ, and a joiner under 2,000 writes a second sent 9,600 to
 * 22,700 of the entries it had just been sent back to their sender (docs/benchmarks.md, what a
 * join costs the swarm).
 *
 * A bucket empty at the start holds nothing the initiator lacks. Otherwise it holds nothing the
 * initiator lacks when these leaves equal the hash of what the initiator sent: XOR applies each
 * merge's change to the start's hash, so only what this side held then, as the round replaced or
 * added to it, remains. A member that reached this side by gossip before the initiator's copy of
 * it leaves the bucket differing here; the live leaves equal the initiator's hash when everything
 * that came meanwhile came from it too (steps.ts, bucketsToReturn). Otherwise the bucket goes back:
 * more than needed, never less.
 */
export class RoundLeaves {
  /** The leaves as of the round's start, with this round's merges applied. */
  readonly leaves: Uint32Array
  /** Per bucket, 1 if this side held anything there at the round's start. */
  readonly held: Uint8Array
  private readonly live: Uint32Array
  private readonly before: Uint32Array

  /** `live`: the replica's digest leaves (two words a bucket), taken now as the round's start. */
  constructor(live: Uint32Array) {
    this.live = live
    this.leaves = live.slice()
    this.held = new Uint8Array(live.length / 2)
    for (let b = 0; b < this.held.length; b++) this.held[b] = live[b * 2] !== 0 || live[b * 2 + 1] !== 0 ? 1 : 0
    this.before = new Uint32Array(live.length)
  }

  /**
   * Runs `merge`, which must change the replica synchronously (nothing else can then change it
   * meanwhile), and applies to {@link leaves} what it changed in the live ones.
   */
  apply(merge: () => void): void {
    const { leaves, live, before } = this
    before.set(live)
    merge()
    for (let i = 0; i < live.length; i++) leaves[i] ^= before[i] ^ live[i]
  }
}
