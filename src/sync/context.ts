/**
 * What one side of a sync round works with (its context) and what it finds (its result),
 * and the inbox of decoded messages it reads: shared by the protocol steps (steps.ts), the
 * transfer of entries (transfer.ts) and the exchange that strings them together (session.ts).
 */
import type { MemberRow, SyncMessage } from '../codec/sync.js'
import type { SyncRoundEvent } from '../contract.js'
import { decodeError, ErrorCode, SharedMemError } from '../errors.js'
import type { Replica } from '../store/replica.js'
import type { Membership } from './membership.js'

export interface SessionContext {
  replica: Replica
  swarm: string
  /** Entries per UPDATES frame. */
  chunkEntries: number
  /** Soft byte limit of one frame's values (a single larger value still goes alone). */
  chunkBytes: number
  /** Members scanned between two turns of the event loop. */
  scanBatch: number
  /** UPDATES frames sent and not yet acknowledged, at most (at least 1). */
  window: number
  /**
   * An initiator given this defers the transfer when more buckets than this differ while
   * writes reach its replica during the digest exchange (deferral.ts). None: never defers.
   */
  deferAbove?: number
  /** Turns an UPDATES frame into the frame to send (compressed when that pays); none: as it is. */
  compress?: (frame: Uint8Array) => Promise<Uint8Array>
  /**
   * The same for a LEAVES frame, on its own: the leaves of groups this side holds nothing of are
   * zeros (a joiner's first answer: 32 KB), random hashes otherwise. None: as it is.
   */
  compressLeaves?: (frame: Uint8Array) => Promise<Uint8Array>
  /** What this peer knows of the swarm's members: its row goes out, the other's is checked (quarantine). */
  membership: Membership
  /** The other side's peer id, when known (the stream's): its row must be its own. */
  remote?: string
  now: () => number
  /** Called after each frame of entries received or sent. */
  onProgress?: (result: SessionResult) => void
  /** Called for each received entry refused (its reason and details). */
  onReject?: (reason: string, message: string) => void
  /**
   * Waits, once in a round, for this side's turn to take entries in (catch-up.ts): the responder
   * before it answers the DIGEST, the initiator once it has the LEAVES. Resolves true when this peer
   * caught up through another round meanwhile: an initiator then defers, as the LEAVES it holds are
   * as old as the wait. None: no waiting.
   */
  takeTurn?: () => Promise<boolean>
}

/** What a round did, as a `sync` event reports it ({@link SyncRoundEvent}), and what the service needs more. */
export interface SessionResult
  extends Pick<SyncRoundEvent, 'inSync' | 'buckets' | 'sent' | 'received' | 'rejected' | 'deferred' | 'refused'> {
  /** When this side started the round (its clock): it then holds the other's state as of this time, once complete. */
  startedAt: number
  /** The other side's member row, as it sent it (empty until received). */
  remoteRow: MemberRow
  /** The round ran to its end: each side then holds the other's state as of the round's start. */
  complete: boolean
}

export function newResult(): SessionResult {
  return {
    inSync: false,
    buckets: 0,
    sent: 0,
    received: 0,
    rejected: 0,
    deferred: false,
    startedAt: 0,
    remoteRow: [],
    complete: false
  }
}

/** The decoded messages the other side sends, in order. */
export type Inbox = AsyncIterator<SyncMessage>

/** One message of `type`, as the protocol step that takes it expects. */
export type Message<T extends SyncMessage['type']> = Extract<SyncMessage, { type: T }>

/** One turn of the event loop, so that timers and I/O run during a long round. */
export const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The next message; undefined once the other side has ended its stream. */
export async function next(inbox: Inbox): Promise<SyncMessage | undefined> {
  const r = await inbox.next()
  return r.done === true ? undefined : r.value
}

/** `msg` as a message of `type`; `ERR_DECODE` for a message of another type, {@link ended} for none. */
export function expect<T extends SyncMessage['type']>(msg: SyncMessage | undefined, type: T): Message<T> {
  if (msg === undefined) throw ended(`its ${type}`)
  if (msg.type !== type) throw decodeError(`expected a sync ${type} message, got ${msg.type}`)
  return msg as Message<T>
}

/**
 * The failure of a round whose other side ended its stream before `what`: a peer that stopped or
 * died mid-round (its connection closed cleanly). Failing at once releases what the round holds
 * (this peer's catch-up turn, the round with that peer); ending quietly left the stream's last
 * write waiting for a reader that was gone, until the round's time limit.
 */
export function ended(what: string): SharedMemError {
  return new SharedMemError(ErrorCode.REMOTE, `the other side ended the sync stream before ${what}`)
}
