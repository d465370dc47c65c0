/**
 * The clock protocol: a peer asks another for its wall clock, and learns from the answer
 * and the round trip how far apart their clocks are (offset.ts). It runs on its own
 * stream, apart from gossip and sync: the answer comes from the peer at the other end of
 * an authenticated connection, so no third peer can make this one believe its clock is
 * off, and the round trip bounds the error.
 *
 * A question is one length-prefixed frame holding the byte 1 (the protocol's version);
 * the answer one frame holding the responder's wall clock in ms, a float64, big-endian.
 */
import type { IdentifyResult, Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import * as lp from 'it-length-prefixed'
import { raceSignal } from 'race-signal'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import type { ClockWatch } from './watch.js'

export const CLOCK_PROTOCOL = '/sharedmem/clock/1.0.0'

const QUESTION = Uint8Array.of(1)
const ANSWER_BYTES = 8

export interface ClockProbeInit {
  node: Libp2p
  /** The wall clock this peer answers with and measures by, in ms. */
  now: () => number
  watch: ClockWatch
  /** Time between two measurements of each peer, in ms. */
  interval: number
  /** Time limit of one exchange, in ms. */
  timeout: number
  /** Peer ids of the swarm's peers now: the ones measured, and the only ones the verdict counts. */
  swarmPeers: () => string[]
  /** Where this part logs. @default @libp2p/logger's `sharedmem:clock` */
  log?: Logger
}

export class ClockProbe {
  private readonly init: ClockProbeInit
  private readonly log: Logger
  /** Connected peers known (from identify) to speak the clock protocol. */
  private readonly speakers = new Set<string>()
  private controller = new AbortController()
  private timer: NodeJS.Timeout | undefined
  private started = false
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = evt.detail
    if (!protocols.includes(CLOCK_PROTOCOL)) return
    this.speakers.add(peerId.toString())
    void this.measure(peerId)
  }
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    this.speakers.delete(peer)
    this.init.watch.forget(peer)
  }

  constructor(init: ClockProbeInit) {
    this.init = init
    this.log = init.log ?? logger('sharedmem:clock')
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.controller = new AbortController()
    await this.init.node.handle(
      CLOCK_PROTOCOL,
      ({ stream }) => {
        this.answer(stream).catch((err: unknown) => {
          this.log('answering a clock question failed: %e', err)
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        })
      },
      { maxInboundStreams: 2 }
    )
    this.init.node.addEventListener('peer:identify', this.onIdentify)
    this.init.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.schedule()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    clearTimeout(this.timer)
    this.controller.abort()
    this.init.node.removeEventListener('peer:identify', this.onIdentify)
    this.init.node.removeEventListener('peer:disconnect', this.onDisconnect)
    await this.init.node.unhandle(CLOCK_PROTOCOL)
  }

  /** Measures every swarm peer that speaks the protocol, and forgets the others. */
  async measureAll(): Promise<void> {
    const peers = this.init.swarmPeers()
    this.init.watch.retain(peers)
    await Promise.allSettled(peers.filter((p) => this.speakers.has(p)).map((p) => this.measure(p)))
  }

  /** Re-arms itself: every swarm peer once per interval. */
  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.measureAll().finally(() => {
        if (this.started) this.schedule()
      })
    }, this.init.interval)
  }

  /** One exchange with `peer`; a failure is logged (the next interval tries again). */
  private async measure(peer: PeerId | string): Promise<void> {
    if (!this.started) return
    // Node 20 holds the sources of AbortSignal.any weakly: the timeout is held (to `finally`) so
    // that a collection of garbage cannot drop it and leave a peer that never answers unbounded.
    const timeout = AbortSignal.timeout(this.init.timeout)
    const signal = AbortSignal.any([this.controller.signal, timeout])
    let stream: Stream | undefined
    try {
      const target = typeof peer === 'string' ? this.connectedPeer(peer) : peer
      stream = await this.init.node.dialProtocol(target, CLOCK_PROTOCOL, { signal })
      const sent = this.init.now()
      const answers = lp.decode(stream.source, { maxDataLength: ANSWER_BYTES })
      await raceSignal(stream.sink(lp.encode([QUESTION])), signal)
      const answer = await raceSignal(answers.next(), signal)
      const received = this.init.now()
      if (answer.done === true) throw decodeError('the clock answer is missing')
      const remote = readReading(answer.value.subarray())
      await raceSignal(stream.close(), signal)
      if (this.started) this.init.watch.add(peer.toString(), { sent, remote, received })
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      if (this.started) this.log('measuring the clock of %s failed: %e', peer.toString(), err)
    } finally {
      void timeout.aborted
    }
  }

  /** Answers one question with this peer's wall clock, read after the question came. */
  private async answer(stream: Stream): Promise<void> {
    const signal = AbortSignal.timeout(this.init.timeout)
    const questions = lp.decode(stream.source, { maxDataLength: QUESTION.byteLength })
    const question = await raceSignal(questions.next(), signal)
    if (question.done === true) return
    const reading = new Uint8Array(ANSWER_BYTES)
    new DataView(reading.buffer).setFloat64(0, this.init.now())
    await raceSignal(stream.sink(lp.encode([reading])), signal)
    await raceSignal(stream.close(), signal)
  }

  private connectedPeer(id: string): PeerId {
    const connection = this.init.node.getConnections().find((c) => c.remotePeer.toString() === id)
    if (connection === undefined) throw new SharedMemError(ErrorCode.REMOTE, `not connected to ${id}`)
    return connection.remotePeer
  }
}

/** A wall clock reading from an answer; throws `ERR_DECODE` for anything but 8 bytes of a time. */
export function readReading(bytes: Uint8Array): number {
  if (bytes.byteLength !== ANSWER_BYTES) throw decodeError('a clock answer is not 8 bytes')
  const reading = new DataView(bytes.buffer, bytes.byteOffset, ANSWER_BYTES).getFloat64(0)
  if (!Number.isFinite(reading) || reading < 0) throw decodeError('a clock answer is not a time')
  return reading
}
