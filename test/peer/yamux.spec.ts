/**
 * The yamux the swarm runs (src/peer/yamux.ts): two real muxers of the pinned
 * @chainsafe/libp2p-yamux joined back to back, counting the WINDOW_UPDATE frames the
 * receiving side sends. Fails if an upgrade moves the internals it reaches into.
 */
import { defaultLogger } from '@libp2p/logger'
import { describe, expect, it } from 'vitest'
import { halfWindowYamux } from '../../src/peer/yamux.js'

/** yamux frame header: version, type, flags, stream id, length (12 bytes); type 1 is WINDOW_UPDATE. */
const HEADER = 12
const WINDOW_UPDATE = 1

type Chunk = Uint8Array | { subarray(): Uint8Array }
interface Muxer {
  source: AsyncIterable<Chunk>
  sink(source: AsyncIterable<Chunk>): Promise<void>
  newStream(): Promise<Stream> | Stream
  close(): Promise<void>
}
interface Stream {
  sink(source: AsyncIterable<Uint8Array>): Promise<void>
  source: AsyncIterable<Chunk>
  sendWindowUpdate: () => void
}

const bytes = (chunk: Chunk): Uint8Array => (chunk instanceof Uint8Array ? chunk : chunk.subarray())

/** Yields what `source` yields, counting the WINDOW_UPDATE frames in it (frames are whole chunks here). */
function counting(source: AsyncIterable<Chunk>, counts: { updates: number }): AsyncIterable<Uint8Array> {
  return (async function* () {
    for await (const chunk of source) {
      const b = bytes(chunk)
      if (b.length >= HEADER && b[1] === WINDOW_UPDATE) counts.updates++
      yield b
    }
  })()
}

/** A sending muxer and a receiving one, joined; the receiver's inbound streams are handed to `onStream`. */
function pair(onStream: (stream: Stream) => void) {
  const make = halfWindowYamux()({ logger: defaultLogger() } as never)
  const sender = make.createStreamMuxer({ direction: 'outbound' }) as unknown as Muxer
  const receiver = make.createStreamMuxer({
    direction: 'inbound',
    onIncomingStream: (stream) => onStream(stream as unknown as Stream)
  }) as unknown as Muxer
  const fromReceiver = { updates: 0 }
  void receiver.sink(sender.source)
  void sender.sink(counting(receiver.source, fromReceiver))
  return { sender, receiver, fromReceiver }
}

async function receiveAll(stream: Stream): Promise<number> {
  let total = 0
  for await (const chunk of stream.source) total += bytes(chunk).length
  return total
}

describe('yamux as the swarm runs it', () => {
  it('grants window once half of it is read, not after every frame, and delivers every byte', async () => {
    let received: Promise<number> | undefined
    const { sender, receiver, fromReceiver } = pair((stream) => {
      received = receiveAll(stream)
    })
    const stream = await sender.newStream()
    // 200 gossip-sized frames (about 40 KB): well under half the initial 256 KiB window.
    const messages = Array.from({ length: 200 }, (_, i) => new Uint8Array(200).fill(i))
    await stream.sink(
      (async function* () {
        for (const m of messages) {
          yield m
          await new Promise(setImmediate)
        }
      })()
    )
    await expect.poll(() => received, { timeout: 5_000 }).toBeDefined()
    expect(await received).toBe(200 * 200)
    // The ACK that opens the stream is the only update: unpatched yamux sends about 200.
    expect(fromReceiver.updates).toBeLessThanOrEqual(2)
    await Promise.all([sender.close(), receiver.close()])
  })

  it('moves 4 MiB, many windows, without stalling', async () => {
    let received: Promise<number> | undefined
    const { sender, receiver, fromReceiver } = pair((stream) => {
      received = receiveAll(stream)
    })
    const stream = await sender.newStream()
    const chunk = new Uint8Array(64 * 1024)
    await stream.sink(
      (async function* () {
        for (let i = 0; i < 64; i++) yield chunk
      })()
    )
    await expect.poll(() => received, { timeout: 5_000 }).toBeDefined()
    expect(await received).toBe(64 * chunk.length)
    expect(fromReceiver.updates).toBeGreaterThan(2)
    await Promise.all([sender.close(), receiver.close()])
  })
})
