/**
 * SharedMemSessionStore: the cases of connect-redis's own store test, rewritten for this store
 * (a fake clock stands where that test reads Redis TTLs), then end to end: an express app in two
 * node:cluster workers sharing a login, and the same store under @fastify/session.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { Cookie } from 'express-session'
import Fastify from 'fastify'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_SESSION_TTL, SharedMemSessionStore } from '../../src/adapters/session.js'
import { ErrorCode } from '../../src/index.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { isAlive, killAll, type LineProcess, spawnJsonLines } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(stopAll)

const SECOND = 1000

/** A store on a peer whose clock is `clock.now` (starting at the real time), and a way to move it. */
async function onFakeClock() {
  const clock = { now: Date.now() }
  const peer = await startPeer({ now: () => clock.now })
  return { store: new SharedMemSessionStore({ peer }), peer, advance: (ms: number) => (clock.now += ms) }
}

describe('SharedMemSessionStore (connect-redis cases)', () => {
  it('has the defaults, and refuses a missing peer or a bad ttl', async () => {
    const peer = await startPeer()
    const store = new SharedMemSessionStore({ peer })
    expect(store.collection).toBe('sess')
    expect(store.ttl).toBe(DEFAULT_SESSION_TTL)
    const invalid = expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT })
    expect(() => new SharedMemSessionStore({} as never)).toThrowError(invalid)
    expect(() => new SharedMemSessionStore({ peer, ttl: 0 })).toThrowError(invalid)
  })

  it('keeps a session without a cookie expiry for the default ttl', async () => {
    const { store, advance } = await onFakeClock()
    await store.set('123', { foo: 'bar' } as never)
    expect(await store.get('123')).toEqual({ foo: 'bar' })
    advance(DEFAULT_SESSION_TTL - SECOND)
    expect(await store.get('123')).toEqual({ foo: 'bar' })
    advance(2 * SECOND)
    expect(await store.get('123')).toBeNull()
  })

  it('expires a session when its cookie does, and touch moves the deadline', async () => {
    const { store, advance } = await onFakeClock()
    const expires = new Date(Date.now() + 60 * SECOND).toISOString()
    await store.set('456', { cookie: { expires } } as never)
    await store.touch('456', { cookie: { expires: new Date(Date.now() + 90 * SECOND).toISOString() } } as never)
    advance(70 * SECOND)
    expect(await store.get('456')).toEqual({ cookie: { expires } })
    advance(30 * SECOND)
    expect(await store.get('456')).toBeNull()
    // maxAge alone (a cookie without expires) sets the deadline too.
    await store.set('age', { cookie: { maxAge: 5 * SECOND } } as never)
    advance(6 * SECOND)
    expect(await store.get('age')).toBeNull()
  })

  it('counts, lists and removes sessions', async () => {
    const { store } = await onFakeClock()
    await store.clear()
    const expires = new Date(Date.now() + 60 * SECOND).toISOString()
    await store.set('123', { foo: 'bar' } as never)
    await store.set('456', { cookie: { expires } } as never)
    expect(await store.length()).toBe(2)
    expect((await store.ids()).sort()).toEqual(['123', '456'])
    const all = (await store.all()) as unknown as Array<{ id: string }>
    all.sort((a, b) => (a.id > b.id ? 1 : -1))
    expect(all).toEqual([
      { id: '123', foo: 'bar' },
      { id: '456', cookie: { expires } }
    ])
    await store.destroy('456')
    expect(await store.length()).toBe(1)
    await store.clear()
    expect(await store.length()).toBe(0)
  })

  it('holds a thousand sessions with express-session cookies, and clears them all', async () => {
    const { store } = await onFakeClock()
    const cookie = new Cookie()
    for (let sid = 0; sid < 1000; sid++) {
      cookie.expires = new Date(Date.now() + SECOND)
      await store.set(`s${sid}`, { cookie } as never)
    }
    expect(await store.length()).toBe(1000)
    expect(new Set(await store.ids()).size).toBe(1000)
    await store.clear()
    expect(await store.length()).toBe(0)
  })

  it('removes a session saved with a cookie that has expired already', async () => {
    const { store } = await onFakeClock()
    await store.set('789', { cookie: { expires: new Date(Date.now() + 90 * SECOND).toISOString() } } as never)
    expect(await store.length()).toBe(1)
    await store.set('789', { cookie: { expires: new Date(Date.now() - 90 * SECOND).toISOString() } } as never)
    expect(await store.length()).toBe(0)
  })

  it('answers Node-style callbacks, as express-session calls it', async () => {
    const { store } = await onFakeClock()
    await new Promise<void>((resolve, reject) =>
      store.set('cb', { user: 'ada' } as never, (err) => (err ? reject(err) : resolve()))
    )
    const got = await new Promise((resolve, reject) => store.get('cb', (err, s) => (err ? reject(err) : resolve(s))))
    expect(got).toEqual({ user: 'ada' })
    const err = await new Promise((resolve) => store.get('', (e) => resolve(e)))
    expect(err).toEqual(expect.objectContaining({ code: ErrorCode.INVALID_NAME }))
  })
})

describe('an express app in two node:cluster workers', () => {
  const APP = fileURLToPath(new URL('../fixtures/session/express-cluster.mjs', import.meta.url))
  let primary: LineProcess | undefined
  const pids = new Set<number>()
  let dir: string | undefined

  afterAll(async () => {
    await killAll()
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('sees on one worker a login made on the other', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sharedmem-session-'))
    primary = spawnJsonLines([APP], { ...process.env, SHAREDMEM_RENDEZVOUS: dir })
    pids.add(primary.pid)
    const ports: number[] = []
    for (const slot of [0, 1]) {
      const listening = await primary.next((m) => m.type === 'listening' && m.slot === slot, `worker ${slot}`)
      pids.add(listening.pid as number)
      ports[slot] = listening.port as number
    }
    const login = await fetch(`http://127.0.0.1:${ports[0]}/login?user=ada`, { method: 'POST' })
    expect(await login.json()).toEqual({ user: 'ada', worker: '0' })
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
    expect(cookie).toMatch(/^connect\.sid=/)
    const me = async (slot: number) =>
      (await (await fetch(`http://127.0.0.1:${ports[slot]}/me`, { headers: { cookie } })).json()) as {
        user: string | null
      }
    await waitFor(async () => (await me(1)).user === 'ada', 'the login at the other worker', { timeout: 20_000 })
    // A logout is checked where it was made: a request elsewhere before the removal arrives would
    // touch the session, and a touch concurrent with a remove may win over it (docs/semantics.md).
    await fetch(`http://127.0.0.1:${ports[1]}/logout`, { method: 'POST', headers: { cookie } })
    expect((await me(1)).user).toBeNull()
  })
})

describe('@fastify/session', () => {
  it('keeps a session in the store across requests, and destroys it', async () => {
    const peer = await startPeer()
    const store = new SharedMemSessionStore({ peer, collection: 'fastify' })
    const app = Fastify()
    try {
      await app.register(fastifyCookie)
      await app.register(fastifySession, {
        secret: 'a secret of at least thirty-two characters',
        store,
        cookie: { secure: false, maxAge: 60_000 }
      })
      app.post('/login', async (req) => {
        req.session.set('user' as never, 'ada' as never)
        return { ok: true }
      })
      app.get('/me', async (req) => ({ user: req.session.get('user' as never) ?? null }))
      app.post('/logout', async (req) => {
        await req.session.destroy()
        return { ok: true }
      })
      const login = await app.inject({ method: 'POST', url: '/login' })
      const cookie = String(login.headers['set-cookie']).split(';')[0]
      expect(await store.length()).toBe(1)
      const [id] = await store.ids()
      expect(await store.get(id as string)).toMatchObject({ user: 'ada' })
      expect((await app.inject({ method: 'GET', url: '/me', headers: { cookie } })).json()).toEqual({ user: 'ada' })
      await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
      expect(await store.length()).toBe(0)
      expect((await app.inject({ method: 'GET', url: '/me', headers: { cookie } })).json()).toEqual({ user: null })
    } finally {
      await app.close()
    }
  })
})
