/**
 * Peer ids of writers by number, shared by a replica's collections: a slot keeps
 * its writer as a number (4 bytes) instead of a string. Never shrinks (a few dozen
 * bytes per writer ever seen).
 */
export class Writers {
  private readonly ids: string[] = []
  private readonly numbers = new Map<string, number>()

  /** The writer asked for last (none yet: undefined, as no id is), and its number: writes mostly come from one writer at a time. */
  private lastId: string | undefined = undefined
  private lastNumber = -1

  numberOf(id: string): number {
    if (id === this.lastId) return this.lastNumber
    let n = this.numbers.get(id)
    if (n === undefined) {
      n = this.ids.push(id) - 1
      this.numbers.set(id, n)
    }
    this.lastId = id
    this.lastNumber = n
    return n
  }

  idOf(n: number): string {
    return this.ids[n]
  }

  /** Every writer, by number (a frame's node table, when its entries carry these numbers). */
  all(): readonly string[] {
    return this.ids
  }
}
