/**
 * Readiness: a new peer's ready() resolves once its first sync round ended, and its replica then
 * holds what the swarm holds (so a new worker never serves from an empty replica); a peer with no
 * one to meet is ready once discovery had its chance. The peer's log lines go to a given logger.
 * Several real peers in this process, on 127.0.0.1; the state machine alone on fake timers.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DEFAULT_READY_WAIT } from '../../src/constants.js'
import { ErrorCode, type PeerLogger } from '../../src/index.js'
import { Readiness } from '../../src/peer/readiness.js'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { closedPort } from '../fixtures/ports.js'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sharedmem-ready-'))
})
afterEach(async () => {
  vi.useRealTimers()
  await stopAll()
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('ready()', () => {
  it("a late joiner's ready() resolves after its first round, and its replica then holds the swarm's data", async () => {
    const [a, b] = await startPeers(2, { rendezvous: false })
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    for (const key of keys) await a.save({ collection: 'swarm', key, variable: { key, n: key.length } })
    await b.increment({ counter: 'hits' })
    await a.syncNow()
    const late = await startPeer({ rendezvous: false, bootstrap: [b.addresses[0]] })
    await late.ready()
    // No waiting beyond ready(): the point of readiness is that this holds at once.
    expect(Object.keys(late.getArraySync({ collection: 'swarm' })).sort()).toEqual([...keys].sort())
    expect(late.getCounterSync({ counter: 'hits' })).toBe(1)
    expect(late.status()).toMatchObject({ ready: true, digest: a.status().digest })
    expect(late.status().sync.rounds).toBeGreaterThan(0)
  })

  it('a lone peer is ready once discovery had its chance: nothing to meet, an empty directory, a refused bootstrap', async () => {
    const alone = await startPeer({ rendezvous: false })
    await alone.ready()
    expect(alone.status()).toMatchObject({ ready: true, peers: [] })

    const dir = await startPeer({ rendezvous: await mkdtemp(join(root, 'dir-')) })
    await dir.ready()
    expect(dir.status().ready).toBe(true)

    const refused = await startPeer({ rendezvous: false, bootstrap: [`127.0.0.1:${await closedPort()}`] })
    await refused.ready()
    expect(refused.status()).toMatchObject({ ready: true, bootstrap: { waiting: true } })
    expect(refused.status().bootstrap.addresses[0]).toMatchObject({ state: 'unreachable', problem: 'refused' })
  })

  it('waits for a bootstrap dial under way; rejects with ERR_STOPPED when the peer stops first, with the reason when the signal aborts', async () => {
    // A server that takes the connection and never answers: the dial ends only at its timeout.
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const peer = await startPeer({ rendezvous: false, bootstrap: [`127.0.0.1:${port}`], dialTimeout: 60_000 })
      expect(peer.status().ready).toBe(false)
      await expect(peer.ready({ signal: AbortSignal.abort(new Error('gave up')) })).rejects.toThrow('gave up')
      const waiting = peer.ready()
      await peer.stop()
      await expect(waiting).rejects.toMatchObject({ code: ErrorCode.STOPPED })
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})

describe('Readiness (the state machine)', () => {
  const machine = (state: { connections: number; dialled: boolean }) =>
    new Readiness({
      wait: DEFAULT_READY_WAIT,
      connections: () => state.connections,
      bootstrapDialled: () => state.dialled
    })

  it('a connected peer waits for a complete, not deferred round, however long', async () => {
    vi.useFakeTimers()
    const r = machine({ connections: 1, dialled: true })
    r.start()
    r.scanned(0)
    vi.advanceTimersByTime(10 * DEFAULT_READY_WAIT)
    expect(r.ready).toBe(false)
    r.roundEnded({ complete: true, deferred: true })
    r.roundEnded({ complete: false, deferred: false })
    expect(r.ready).toBe(false)
    r.roundEnded({ complete: true, deferred: false })
    expect(r.ready).toBe(true)
    await expect(r.wait()).resolves.toBeUndefined()
  })

  it('waits for every bootstrap dial, and for peers found on this host until the bounded wait', () => {
    vi.useFakeTimers()
    const state = { connections: 0, dialled: false }
    const r = machine(state)
    r.start()
    r.scanned(2) // peers found on this host: they may connect in a moment
    state.dialled = true
    r.check()
    expect(r.ready).toBe(false)
    vi.advanceTimersByTime(DEFAULT_READY_WAIT - 1)
    expect(r.ready).toBe(false)
    vi.advanceTimersByTime(1)
    expect(r.ready).toBe(true)
  })

  it('a connected peer left alone before its round is ready once every bootstrap dial ended', () => {
    vi.useFakeTimers()
    const state = { connections: 1, dialled: true }
    const r = machine(state)
    r.start()
    r.scanned(0)
    expect(r.ready).toBe(false)
    state.connections = 0
    r.check()
    expect(r.ready).toBe(true)
  })

  it('stop() rejects a pending wait with ERR_STOPPED', async () => {
    const r = machine({ connections: 1, dialled: true })
    r.start()
    const waiting = r.wait()
    r.stop()
    await expect(waiting).rejects.toMatchObject({ code: ErrorCode.STOPPED })
  })
})

describe('createPeer({ logger })', () => {
  it("a pino logger receives the peer's warnings, each from a child naming its component", async () => {
    const lines: Array<{ level: number; component?: string; msg: string }> = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line))
        done()
      }
    })
    const logger = pino({ level: 'debug' }, sink)
    const port = await closedPort()
    const peer = await startPeer({ rendezvous: false, bootstrap: [`127.0.0.1:${port}`], logger })
    await peer.ready()
    const warning = lines.find((l) => l.level === 40 && l.msg.includes(`127.0.0.1/tcp/${port}`))
    expect(warning).toMatchObject({
      component: 'sharedmem:peer',
      msg: expect.stringContaining('unreachable (refused)')
    })
    // Debug lines of the other parts come through too, each naming its part.
    expect(lines.some((l) => l.level === 20 && l.component === 'sharedmem:dialer')).toBe(true)
  })

  it('a logger without child() gets lines that name their component', async () => {
    const warnings: string[] = []
    const noop = (): void => {}
    const logger: PeerLogger = { trace: noop, debug: noop, info: noop, error: noop, warn: (m) => warnings.push(m) }
    const peer = await startPeer({ rendezvous: false, bootstrap: [`127.0.0.1:${await closedPort()}`], logger })
    await peer.ready()
    expect(warnings).toEqual([expect.stringMatching(/^sharedmem:peer: bootstrap .* unreachable \(refused\)/)])
  })
})
