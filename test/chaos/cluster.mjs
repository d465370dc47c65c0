/**
 * The peers of a chaos run: real `sharedmem peer` processes started through the CLI, each with
 * --http and its configuration (promise.mjs: durable, data directory, or memory only), joined in a
 * chain (peer i bootstraps from peer i-1 only; peer 0 from 1), each as the user its network gives
 * it (net.mjs). Every stop and kill is recorded in `stops`, for the checks of what each
 * configuration may lose. Every process is tracked by PID; `stopAll()` leaves none behind.
 */
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configArgs } from './promise.mjs'

const BIN = fileURLToPath(new URL('../../bin/sharedmem.js', import.meta.url))
export const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'

export class Cluster {
  /**
   * @param {{ count: number, dir: string, net: object, p2pPorts: number[], httpPorts: number[],
   *   syncInterval: number, maxClockSkew: number, tombstoneTtl: number, collectInterval: number,
   *   configs: string[], onCrash: (i: number, why: string) => void }} init
   */
  constructor(init) {
    this.init = init
    /** Every stop (`term`: SIGTERM) and kill (`kill`: SIGKILL) of a peer, in order. */
    this.stops = []
    this.peers = Array.from({ length: init.count }, (_, i) => ({
      i,
      child: undefined,
      pid: 0,
      up: false,
      paused: false,
      skew: 0,
      expectExit: false,
      starts: 0,
      /** Counts starts, stops, kills and pauses: an attempt that saw it change saw its peer interrupted. */
      interruptions: 0
    }))
  }

  url(i) {
    return `http://${this.init.net.host(i)}:${this.init.httpPorts[i]}/sharedmem`
  }

  args(i) {
    const { net, p2pPorts, httpPorts, dir } = this.init
    const neighbour = i === 0 ? 1 : i - 1
    return [
      'peer',
      '--listen',
      `${net.host(i)}:${p2pPorts[i]}`,
      '--bootstrap',
      `${net.host(neighbour)}:${p2pPorts[neighbour]}`,
      '--http',
      String(httpPorts[i]),
      '--http-host',
      net.host(i),
      ...configArgs(this.init.configs[i], join(dir, `peer-${i}`)),
      '--rendezvous',
      'off',
      '--sync-interval',
      String(this.init.syncInterval),
      '--max-clock-skew',
      String(this.init.maxClockSkew),
      '--tombstone-ttl',
      String(this.init.tombstoneTtl),
      '--collect-interval',
      String(this.init.collectInterval),
      '--status-interval',
      '0'
    ]
  }

  /** Starts peer `i` (with its clock `skew` ms off, through libfaketime) and waits until it serves. */
  async start(i, skew = 0) {
    const peer = this.peers[i]
    const env = { ...process.env, SHAREDMEM_RENDEZVOUS: 'off' }
    if (skew !== 0) {
      // Only the wall clock moves: timers keep the real monotonic clock.
      Object.assign(env, {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME: `${skew > 0 ? '+' : '-'}${Math.abs(skew) / 1000}s`,
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        FAKETIME_NO_CACHE: '1'
      })
    }
    const identity = this.init.net.identity(i)
    mkdirSync(join(this.init.dir, `peer-${i}`), { recursive: true })
    if (identity.uid !== undefined) {
      // The peer runs as a user of its own: its data directory is its own, the run's readable.
      chmodSync(this.init.dir, 0o755)
      chownSync(join(this.init.dir, `peer-${i}`), identity.uid, identity.gid)
    }
    const log = openSync(join(this.init.dir, `peer-${i}.log`), 'a')
    const [cmd, ...argv] = this.init.net.command(i, [process.execPath, BIN, ...this.args(i)])
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', log], ...identity })
    peer.child = child
    peer.pid = child.pid
    peer.skew = skew
    peer.paused = false
    peer.expectExit = false
    peer.starts++
    peer.interruptions++
    let out = ''
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer ${i} did not start in 30 s:\n${out}`)), 30_000)
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        if (out.length < 64 * 1024) out += chunk
        if (/^ready$/m.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        peer.up = false
        if (!peer.expectExit) this.init.onCrash(i, `exited with ${code ?? signal}:\n${out.slice(-2000)}`)
        reject(new Error(`peer ${i} exited with ${code ?? signal}`))
      })
    })
    ready.catch(() => {})
    await ready
    child.stdout.resume()
    peer.up = true
  }

  /** Waits for peer `i`'s process to exit (bounded), SIGKILLing it if it lingers. */
  async waitExit(i, timeout = 15_000) {
    const { child } = this.peers[i]
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    await exited
    clearTimeout(timer)
  }

  async kill9(i) {
    const peer = this.peers[i]
    peer.expectExit = true
    peer.up = false
    peer.interruptions++
    this.stops.push({ peer: i, at: Date.now(), how: 'kill' })
    if (peer.paused) process.kill(peer.pid, 'SIGCONT')
    process.kill(peer.pid, 'SIGKILL')
    await this.waitExit(i)
  }

  /** SIGKILL of every peer at once (no one left to hold what another had not yet stored). */
  async killAll() {
    const live = this.peers.filter(
      (p) => p.child !== undefined && p.child.exitCode === null && p.child.signalCode === null
    )
    await Promise.all(live.map((p) => this.kill9(p.i)))
  }

  /** SIGTERM: the peer publishes what is pending, flushes its data directory and exits. */
  async stop(i) {
    const peer = this.peers[i]
    const { child } = peer
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    peer.expectExit = true
    if (peer.paused) {
      process.kill(peer.pid, 'SIGCONT')
      peer.paused = false
    }
    peer.up = false
    peer.interruptions++
    this.stops.push({ peer: i, at: Date.now(), how: 'term' })
    try {
      process.kill(peer.pid, 'SIGTERM')
    } catch {}
    await this.waitExit(i)
  }

  pause(i) {
    const peer = this.peers[i]
    process.kill(peer.pid, 'SIGSTOP')
    peer.paused = true
    peer.interruptions++
  }

  resume(i) {
    const peer = this.peers[i]
    if (!peer.paused) return
    process.kill(peer.pid, 'SIGCONT')
    peer.paused = false
  }

  /** Stops every process still running (SIGCONT first, then SIGTERM, SIGKILL after a grace). */
  async stopAll() {
    await Promise.all(this.peers.map((p) => this.stop(p.i).catch(() => {})))
  }

  /** Whether libfaketime is installed here. */
  static canSkewClocks() {
    return existsSync(FAKETIME_LIB)
  }
}
