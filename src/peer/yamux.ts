/**
 * yamux as the swarm runs it: a stream grants its sender more window once half of it is used,
 * not after every frame it reads.
 *
 * @chainsafe/libp2p-yamux 7 sends a WINDOW_UPDATE each time a stream's reader takes a frame.
 * Gossip sends one small frame per message, so every message copy had a second frame sent back:
 * encrypted, written with a syscall of its own, read and decrypted by the other side (half of all
 * frames: docs/benchmarks.md, "Frames per gossip message"). go-yamux and rust-yamux send one
 * once half the window is consumed, as here. Flow control is unchanged: a sender still never has
 * more in flight than the window its receiver granted, and a receiver still grants more as it reads.
 *
 * This reaches into members that are private in the type declarations (the version is pinned);
 * test/peer/yamux.spec.ts fails if an upgrade moves them, and without them yamux is left as it is.
 */
import { yamux } from '@chainsafe/libp2p-yamux'

/** Stream states of @chainsafe/libp2p-yamux's `StreamState` in which an update carries the SYN or ACK flag. */
const OPENING_STATES = new Set([0 /* Init */, 2 /* SYNReceived */])

/** The members of a YamuxStream this relies on. */
export interface WindowInternals {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate(): void
}

interface MuxerInternals {
  _newStream(...args: unknown[]): unknown
}

function hasWindowInternals(stream: unknown): stream is WindowInternals {
  const s = stream as Partial<WindowInternals>
  return (
    typeof s.state === 'number' &&
    typeof s.recvWindow === 'number' &&
    typeof s.recvWindowCapacity === 'number' &&
    typeof s.sendWindowUpdate === 'function'
  )
}

function hasMuxerInternals(muxer: unknown): muxer is MuxerInternals {
  return typeof (muxer as Partial<MuxerInternals>)._newStream === 'function'
}

/** Makes `stream` send a window update only while it opens, or once at most half its window is left. */
export function updateAtHalfWindow(stream: WindowInternals): void {
  const update = stream.sendWindowUpdate.bind(stream)
  stream.sendWindowUpdate = () => {
    if (!OPENING_STATES.has(stream.state) && stream.recvWindowCapacity > stream.recvWindow / 2) return
    update()
  }
}

/** `yamux(init)`, each stream of each of its muxers made to {@link updateAtHalfWindow}. */
export function halfWindowYamux(init?: Parameters<typeof yamux>[0]): ReturnType<typeof yamux> {
  const build = yamux(init)
  return (components) => {
    const factory = build(components)
    const createStreamMuxer = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (muxerInit) => {
      const muxer = createStreamMuxer(muxerInit)
      if (hasMuxerInternals(muxer)) {
        const newStream = muxer._newStream.bind(muxer)
        muxer._newStream = (...args) => {
          const stream = newStream(...args)
          if (hasWindowInternals(stream)) updateAtHalfWindow(stream)
          return stream
        }
      }
      return muxer
    }
    return factory
  }
}
