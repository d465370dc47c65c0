/**
 * The `/sharedmem/watch` streams: Server-Sent Events of a peer's changes. A
 * write to a client that does not read stays queued in this process, so each
 * stream's queue is bounded: a subscriber that falls further behind is sent one
 * last `error` event (ERR_SLOW_CONSUMER), its stream ends, and its connection
 * is destroyed if it has not read that far within `drainTimeout`. The bound
 * counts every byte Node holds for the stream (`writableLength`: events, chunk
 * framing, and room kept for the last event), not what the kernel holds.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { ChangeEvent, SharedMemPeer, WatchStats } from '../contract.js'
import { ErrorCode } from '../errors.js'

export interface WatchLimits {
  /** Most bytes queued in this process for one stream, the last event included. */
  maxBufferedBytes: number
  /** Interval of keep-alive comments, in ms. */
  keepAliveInterval: number
  /** Time a dropped subscriber has to read what is queued for it before its connection is destroyed, in ms. */
  drainTimeout: number
}

/** What to send: changes of one collection, of one counter, of every collection, or of everything. */
export interface WatchFilter {
  collection?: string
  counter?: string
}

export interface WatchHub {
  /** Starts an event stream on `res` (headers not yet sent). */
  subscribe(res: ServerResponse, filter: WatchFilter): void
  stats(): WatchStats
  /** Ends every stream and destroys its connection. */
  close(): void
}

const SLOW_CONSUMER_EVENT = `event: error\ndata: ${JSON.stringify({
  error: {
    code: ErrorCode.SLOW_CONSUMER,
    message: 'this client fell behind the changes; the stream is closed (reconnect and re-read what you need)'
  }
})}\n\n`

/** Bytes of chunked transfer framing around one write (hex length, CRLFs), or the terminating chunk. */
const CHUNK_FRAMING = 16

/** Room always kept free in a stream's queue, so that the last event fits within the bound too. */
const RESERVED = Buffer.byteLength(SLOW_CONSUMER_EVENT) + 2 * CHUNK_FRAMING

const matches = (filter: WatchFilter, event: ChangeEvent): boolean =>
  event.type === 'counter'
    ? filter.collection === undefined && (filter.counter === undefined || filter.counter === event.counter)
    : filter.counter === undefined && (filter.collection === undefined || filter.collection === event.collection)

export function createWatchHub(peer: SharedMemPeer, limits: WatchLimits): WatchHub {
  /** Every open stream, subscribed or draining, with the socket it was opened on. */
  const open = new Map<ServerResponse, Socket | null>()
  const unsubscribers = new Map<ServerResponse, () => void>()
  let dropped = 0

  function subscribe(res: ServerResponse, filter: WatchFilter): void {
    const socket = res.socket
    open.set(res, socket)
    /** Queues `text` if it fits within the bound with the reserve; otherwise drops the subscriber. */
    const send = (text: string): void => {
      if (!unsubscribers.has(res)) return
      const size = Buffer.byteLength(text) + CHUNK_FRAMING
      if (res.writableLength + size + RESERVED > limits.maxBufferedBytes) drop(res, socket)
      else res.write(text)
    }
    const onChange = (event: ChangeEvent): void => {
      if (matches(filter, event)) send(`event: change\ndata: ${JSON.stringify(event)}\n\n`)
    }
    const keepAlive = setInterval(() => send(': keep-alive\n\n'), limits.keepAliveInterval)
    unsubscribers.set(res, () => {
      clearInterval(keepAlive)
      peer.off('change', onChange)
      unsubscribers.delete(res)
    })
    res.once('close', () => {
      unsubscribers.get(res)?.()
      open.delete(res)
    })
    peer.on('change', onChange)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    send(': watching\n\n')
  }

  function drop(res: ServerResponse, socket: Socket | null): void {
    unsubscribers.get(res)?.()
    dropped++
    // The response is detached from its socket when it finishes: keep the socket to end or destroy it.
    const timer = setTimeout(() => socket?.destroy(), limits.drainTimeout)
    timer.unref()
    res.once('finish', () => {
      clearTimeout(timer)
      socket?.end() // all that was queued, the last event included, went out: close the connection too
      open.delete(res)
    })
    socket?.once('close', () => {
      clearTimeout(timer)
      open.delete(res)
    })
    res.end(SLOW_CONSUMER_EVENT)
  }

  return {
    subscribe,
    stats: () => ({
      subscribers: unsubscribers.size,
      draining: open.size - unsubscribers.size,
      dropped,
      bufferedBytes: [...open.keys()].map((res) => res.writableLength)
    }),
    close() {
      for (const unsubscribe of [...unsubscribers.values()]) unsubscribe()
      for (const [res, socket] of open) {
        if (res.writableEnded)
          socket?.destroy() // a dropped subscriber's queue: nobody waits for it now
        else res.end()
      }
    }
  }
}
