/**
 * HTTP abuse during a chaos run, against random live peers: uploads over the body limit (each must
 * get its 413, never a reset connection), slow clients that dribble a request (each must be cut
 * off), and bursts of many concurrent connections (each must be answered).
 */
import { request } from 'node:http'
import { connect } from 'node:net'

const OVERSIZE = Buffer.alloc(8 * 1024 * 1024, 'x')

export class Abuse {
  constructor(cluster, rng) {
    this.cluster = cluster
    this.rng = rng
    this.counts = { oversize: 0, oversize413: 0, slow: 0, slowCut: 0, burst: 0, burstAnswered: 0 }
    this.problems = []
    this.running = false
  }

  target() {
    const live = this.cluster.peers.filter((p) => p.up && !p.paused)
    return live.length === 0 ? undefined : live[Math.floor(this.rng() * live.length)]
  }

  /** One oversize upload; a reset is a problem only if the peer stayed up meanwhile. */
  oversize(peer) {
    return new Promise((resolve) => {
      const starts = peer.starts
      const req = request(`${this.cluster.url(peer.i)}/save`, { method: 'POST', agent: false }, (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode === 413) this.counts.oversize413++
          else this.problems.push(`oversize upload to peer ${peer.i} answered ${res.statusCode}`)
          resolve()
        })
      })
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
      req.on('error', (err) => {
        if (peer.up && !peer.paused && peer.starts === starts) {
          this.problems.push(`oversize upload to peer ${peer.i}: ${err.code ?? err.message} instead of 413`)
        }
        resolve()
      })
      this.counts.oversize++
      req.end(OVERSIZE)
    })
  }

  /** A client that sends a byte every 300 ms: the peer must close it (requestTimeout, 30 s by default). */
  slow(peer) {
    return new Promise((resolve) => {
      this.counts.slow++
      const url = new URL(this.cluster.url(peer.i))
      const socket = connect(Number(url.port), url.hostname)
      const dribble = setInterval(() => socket.writable && socket.write('x'), 300)
      const giveUp = setTimeout(() => {
        if (peer.up && !peer.paused) this.problems.push(`slow client of peer ${peer.i} not cut off in 45 s`)
        socket.destroy()
      }, 45_000)
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(dribble)
        clearTimeout(giveUp)
        this.counts.slowCut++
        resolve()
      })
      socket.write(`POST /sharedmem/save HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 100000\r\n\r\n{`)
    })
  }

  /** 200 concurrent connections, each a read. */
  async burst(peer) {
    this.counts.burst += 200
    const one = () =>
      fetch(`${this.cluster.url(peer.i)}/getCounter?counter=c0`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.ok && this.counts.burstAnswered++)
        .catch(() => {})
    await Promise.all(Array.from({ length: 200 }, one))
  }

  start() {
    this.running = true
    this.slowClients = []
    this.loop = (async () => {
      for (let round = 0; this.running && round < 10_000; round++) {
        const peer = this.target()
        if (peer !== undefined) {
          if (round % 3 === 0) await this.oversize(peer)
          else if (round % 3 === 1) this.slowClients.push(this.slow(peer))
          else await this.burst(peer)
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000))
      }
    })()
  }

  /** Stops starting abuse; slow clients still open are left to be cut off (bounded by their own 45 s). */
  async stop() {
    this.running = false
    await this.loop
  }

  /** Waits for every slow client to be closed. */
  async settled() {
    await Promise.all(this.slowClients ?? [])
  }
}
