/**
 * The stream adapter: runs one side of a sync round (session.ts) over a libp2p stream, with
 * length-prefixed frames (it-length-prefixed) in both directions, read ahead of the merge and
 * inflated where compressed, and a time limit. It knows nothing of the protocol's steps.
 */
import type { Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { pipe } from 'it-pipe'
import { raceSignal } from 'race-signal'
import type { DecodeLimits } from '../codec/index.js'
import { decodeSyncMessage, deflatedPayload, type SyncMessage } from '../codec/sync.js'
import { ErrorCode, SharedMemError } from '../errors.js'
import { inflateFrame } from './compress.js'
import { prefetched, readAhead } from './read-ahead.js'

/** Bytes of frames sent and received, counted as they pass. */
export interface ByteCounts {
  bytesSent: number
  bytesReceived: number
}

export interface StreamRound {
  limits: DecodeLimits
  /** Frames read ahead of the merge, at most. */
  readAhead: number
  /** Counts the bytes of the frames. */
  counts: ByteCounts
  /** Cuts the round short (stop, or its time limit). */
  signal: AbortSignal
  /** The other side, for the error a cut-short round fails with. */
  peer: string
}

/**
 * Runs `side` over `stream`: it reads the decoded frames the other side sends and yields the
 * frames to send. Settles once it has ended and the stream is closed, or on `signal`; on
 * failure the stream is aborted and the error rethrown.
 */
export async function runOverStream(
  stream: Stream,
  side: (inbox: AsyncGenerator<SyncMessage>) => AsyncGenerator<Uint8Array>,
  round: StreamRound
): Promise<void> {
  const { signal, peer } = round
  const onAbort = (): void => stream.abort(new SharedMemError(ErrorCode.TIMEOUT, `sync with ${peer} was cut short`))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    const inbox = frames(stream, round.limits, round.counts, round.readAhead)
    const piped = pipe(
      side(inbox),
      (source) => counted(source, round.counts),
      (source) => lp.encode(source),
      stream.sink
    )
    piped.catch(() => {})
    // Aborting the stream does not always end a pipe whose reader has stopped pulling
    // (seen on stop during a large catch-up): the round settles on the signal regardless.
    await raceSignal(piped, signal)
    await raceSignal(stream.close(), signal)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Decoded frames of a sync stream, read `ahead` frames ahead of the merge. Compressed ones wait
 * in that queue as they came, and each is inflated while the frame before it merges: only two
 * frames are held inflated at a time. Frames are decoded as they are taken: entries decoded
 * ahead would live long enough to be promoted, and cost the garbage collector more than their
 * decoding.
 */
async function* frames(
  stream: Stream,
  limits: DecodeLimits,
  counts: ByteCounts,
  ahead: number
): AsyncGenerator<SyncMessage> {
  const raw = lp.decode(stream.source, { maxDataLength: limits.maxMessageBytes })
  for await (const frame of prefetched(inflated(readAhead(raw, ahead), limits, counts))) {
    yield decodeSyncMessage(frame, limits)
  }
}

/** The bytes of each frame, a DEFLATED one inflated. */
async function* inflated(
  source: AsyncIterable<{ byteLength: number; subarray(): Uint8Array }>,
  limits: DecodeLimits,
  counts: ByteCounts
): AsyncGenerator<Uint8Array> {
  for await (const frame of source) {
    counts.bytesReceived += frame.byteLength
    const bytes = frame.subarray()
    const payload = deflatedPayload(bytes)
    yield payload === undefined ? bytes : await inflateFrame(payload, limits.maxMessageBytes)
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, counts: ByteCounts): AsyncGenerator<Uint8Array> {
  for await (const frame of source) {
    counts.bytesSent += frame.byteLength
    yield frame
  }
}
