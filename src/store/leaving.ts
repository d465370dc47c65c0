/**
 * The members the digest will leave out at each of its future lines (store/tally.ts), kept as
 * they are counted in and out: per line, the XOR of their hashes, bucket by bucket. Moving the
 * line then XORs the digest with what is due, whatever the size of the replica; it used to scan
 * every member in one turn of the event loop (docs/benchmarks.md, "The event loop during a join").
 *
 * A line's hashes are first a list of (bucket, h1, h2) triples, folded into one pair of words
 * per bucket once the list would take more room than that: a line few members leave at costs a
 * few words, and one that many leave at, the size of the digest.
 */
import { BUCKETS, type Digest, type MemberHash } from './digest.js'

/** Triples a line lists before they are folded into words per bucket (as many words as the folded form). */
const MAX_LISTED = Math.floor((BUCKETS * 2) / 3)

/** What leaves at one line: listed triples, or folded words per bucket. */
interface Due {
  list: Uint32Array
  listed: number
  folded: Uint32Array | undefined
}

export class Leaving {
  /** By line, as its number of epochs (a small integer, where the line itself is a boxed number). */
  private readonly due = new Map<number, Due>()
  /** The line toggled last, and its entry: consecutive writes die at the same line, mostly. */
  private lastLine = Number.NaN
  private last: Due | undefined

  /** Lines with something due, for tests and status. */
  get lines(): number {
    return this.due.size
  }

  /** Adds or removes (XOR) member `h`, which the digest leaves out once the line reaches `line` (in epochs). */
  toggle(line: number, h: MemberHash): void {
    let d = line === this.lastLine ? this.last : this.due.get(line)
    if (d === undefined) {
      d = { list: new Uint32Array(3 * 4), listed: 0, folded: undefined }
      this.due.set(line, d)
    }
    this.lastLine = line
    this.last = d
    if (d.folded !== undefined) {
      d.folded[h.bucket * 2] ^= h.h1
      d.folded[h.bucket * 2 + 1] ^= h.h2
      return
    }
    if (d.listed === MAX_LISTED) {
      d.folded = new Uint32Array(BUCKETS * 2)
      fold(d, d.folded)
      d.list = new Uint32Array(0)
      this.toggle(line, h)
      return
    }
    if (d.listed * 3 === d.list.length) {
      const list = new Uint32Array(Math.min(d.list.length * 2, MAX_LISTED * 3))
      list.set(d.list)
      d.list = list
    }
    d.list[d.listed * 3] = h.bucket
    d.list[d.listed * 3 + 1] = h.h1
    d.list[d.listed * 3 + 2] = h.h2
    d.listed++
  }

  /** Takes out of `digest` what is due at `line` (in epochs) or before, and forgets it. */
  apply(line: number, digest: Digest): void {
    for (const [at, d] of this.due) {
      if (at > line) continue
      if (d.folded === undefined) fold(d, digest.leaves)
      else for (let i = 0; i < d.folded.length; i++) digest.leaves[i] ^= d.folded[i]
      this.due.delete(at)
    }
    this.lastLine = Number.NaN
    this.last = undefined
  }
}

/** XORs the triples listed in `d` into `leaves` (two words a bucket). */
function fold(d: Due, leaves: Uint32Array): void {
  for (let i = 0; i < d.listed; i++) {
    const bucket = d.list[i * 3]
    leaves[bucket * 2] ^= d.list[i * 3 + 1]
    leaves[bucket * 2 + 1] ^= d.list[i * 3 + 2]
  }
}
