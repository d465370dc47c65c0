/**
 * Reading a source ahead of its consumer, within a bound. yamux grants its sender more window
 * only as the reader takes data, and never more than 256 KiB on a fast link (its window grows
 * with the measured round trip, which loopback rounds to 0): a reader that stops while it
 * merges a frame stalls the sender. Reading ahead keeps the bytes moving; the sync protocol's
 * own window (acknowledged frames) bounds what is queued, and a peer that sends past it is cut off.
 */
import { decodeError } from '../errors.js'

/** `source`, read ahead of its consumer, holding at most `limit` items (`ERR_DECODE` past it). */
export async function* readAhead<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  const queue: T[] = []
  let ended = false
  let failure: unknown
  let wake: (() => void) | undefined
  const notify = (): void => {
    wake?.()
    wake = undefined
  }
  // The pump settles by itself (it records its failure); a consumer that stops early leaves it to
  // end with the stream.
  void (async () => {
    try {
      for await (const item of source) {
        if (queue.length >= limit)
          throw decodeError(`the peer sent more than ${limit} frames ahead of its acknowledgements`)
        queue.push(item)
        notify()
      }
    } catch (err) {
      failure = err
    } finally {
      ended = true
      notify()
    }
  })()
  for (;;) {
    if (queue.length > 0) yield queue.shift() as T
    else if (failure !== undefined) throw failure
    else if (ended) return
    else await new Promise<void>((resolve) => (wake = resolve))
  }
}

/** `source`, asking it for each next item as soon as the previous one is taken (so it works meanwhile). */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const items = source[Symbol.asyncIterator]()
  let pending = items.next()
  try {
    for (;;) {
      const item = await pending
      if (item.done === true) return
      pending = items.next()
      // Its failure is thrown when it is awaited, at the next turn; not reported as unhandled meanwhile.
      pending.catch(() => {})
      yield item.value
    }
  } finally {
    await items.return?.()
  }
}
