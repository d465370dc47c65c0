/**
 * `sharedmem/session`: an express-session store on sharedmem, so that a session made by one process
 * is seen by every process of the swarm (node:cluster workers, pm2 instances, other hosts). Each
 * session is a key of one collection; the cookie's `expires` (or `maxAge`) becomes the entry's
 * expiry, which every replica honours, and `touch` moves it without rewriting the session. The same
 * store serves @fastify/session, which calls `get`, `set` and `destroy` alike.
 *
 * @example
 * import session, { type SessionData } from 'express-session'
 * import { createPeer } from 'sharedmem'
 * import { SharedMemSessionStore } from 'sharedmem/session'
 * const peer = await createPeer()
 * app.use(session({ store: new SharedMemSessionStore({ peer }), secret: 'keyboard cat', resave: false, saveUninitialized: false }))
 */
import session, { type SessionData } from 'express-session'
import type { Callback, CollectionIterator, SharedMem } from '../contract.js'
import { invalidArgument } from '../errors.js'
import { settle } from '../util/callback.js'

/** The collection sessions are kept in unless told otherwise (connect-redis's prefix, without the colon). */
export const DEFAULT_SESSION_COLLECTION = 'sess'

/**
 * Lifetime of a session whose cookie has no expiry (a browser-session cookie), in ms: one day, as
 * connect-redis keeps one, so that abandoned sessions do not stay forever.
 */
export const DEFAULT_SESSION_TTL = 86_400_000

export interface SharedMemSessionStoreOptions {
  /** An embedded peer (`createPeer()`) or a remote client (`connect()`). */
  peer: SharedMem & CollectionIterator
  /** The collection holding the sessions. @default 'sess' */
  collection?: string
  /** Lifetime in ms of a session whose cookie sets none. @default 86400000 (one day) */
  ttl?: number
}

/** What a store is handed: express-session's and @fastify/session's session objects alike. */
interface StoredSession {
  cookie?: { expires?: Date | string | null; maxAge?: number | null; originalMaxAge?: number | null }
  [field: string]: unknown
}

export class SharedMemSessionStore extends session.Store {
  readonly collection: string
  readonly ttl: number
  private readonly peer: SharedMem & CollectionIterator

  constructor(options: SharedMemSessionStoreOptions) {
    super()
    if (options?.peer === undefined || typeof options.peer.save !== 'function')
      throw invalidArgument('SharedMemSessionStore needs { peer }: a peer from createPeer() or a client from connect()')
    const ttl = options.ttl ?? DEFAULT_SESSION_TTL
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)
      throw invalidArgument(`ttl must be a positive number of ms, got ${String(ttl)}`)
    this.peer = options.peer
    this.collection = options.collection ?? DEFAULT_SESSION_COLLECTION
    this.ttl = ttl
  }

  /** The session, or null. Stored as JSON text: each read gives a fresh object for the middleware to change. */
  get(sid: string, callback?: Callback<SessionData | null>): Promise<SessionData | null> {
    return settle(async () => {
      const text = await this.peer.get({ collection: this.collection, key: sid })
      return typeof text === 'string' ? (JSON.parse(text) as SessionData) : null
    }, callback)
  }

  /** Stores a session until its cookie expires; one whose cookie has expired already is removed. */
  set(sid: string, sess: SessionData, callback?: Callback<void>): Promise<void> {
    return settle(async () => {
      const expiresIn = this.lifetime(sess)
      if (expiresIn <= 0) {
        await this.peer.remove({ collection: this.collection, key: sid })
        return
      }
      const variable = JSON.stringify(sess)
      await this.peer.save({ collection: this.collection, key: sid, variable, options: { expiresIn } })
    }, callback)
  }

  /** Gives a session the new deadline of its cookie without writing the session again. */
  override touch(sid: string, sess: SessionData, callback?: Callback<void>): Promise<void> {
    return settle(async () => {
      const expiresIn = this.lifetime(sess)
      if (expiresIn <= 0) await this.peer.remove({ collection: this.collection, key: sid })
      else await this.peer.touch({ collection: this.collection, key: sid, options: { expiresIn } })
    }, callback)
  }

  destroy(sid: string, callback?: Callback<void>): Promise<void> {
    return settle(async () => {
      await this.peer.remove({ collection: this.collection, key: sid })
    }, callback)
  }

  /** Every live session, each with its `id`. */
  override all(callback?: Callback<SessionData[]>): Promise<SessionData[]> {
    return settle(async () => {
      const sessions: SessionData[] = []
      for await (const [id, text] of this.peer.iterate({ collection: this.collection })) {
        if (typeof text === 'string') sessions.push({ id, ...(JSON.parse(text) as SessionData) } as SessionData)
      }
      return sessions
    }, callback)
  }

  /** The ids of every live session. */
  ids(callback?: Callback<string[]>): Promise<string[]> {
    return settle(async () => {
      const ids: string[] = []
      let cursor: string | null = null
      do {
        const page: { keys: string[]; cursor: string | null } = await this.peer.keys({
          collection: this.collection,
          cursor,
          limit: 1000
        })
        ids.push(...page.keys)
        cursor = page.cursor
      } while (cursor !== null)
      return ids
    }, callback)
  }

  override length(callback?: Callback<number>): Promise<number> {
    return settle(async () => (await this.ids()).length, callback)
  }

  /** Removes every session (that this replica holds: see clear in docs/semantics.md). */
  override clear(callback?: Callback<void>): Promise<void> {
    return settle(async () => {
      await this.peer.clear({ collection: this.collection })
    }, callback)
  }

  /** Ms left of a session: until its cookie's `expires`, else its `maxAge`, else the store's ttl. */
  private lifetime(sess: SessionData): number {
    const cookie = (sess as StoredSession | undefined)?.cookie
    const expires = cookie?.expires
    if (expires !== undefined && expires !== null) {
      const at = expires instanceof Date ? expires.getTime() : Date.parse(expires)
      if (Number.isFinite(at)) return Math.min(at - Date.now(), Number.MAX_SAFE_INTEGER)
    }
    if (typeof cookie?.maxAge === 'number' && Number.isFinite(cookie.maxAge)) return cookie.maxAge
    return this.ttl
  }
}
