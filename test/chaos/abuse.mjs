/**
 * HTTP abuse during a chaos run, against random live peers: uploads over the body limit (each must
 * get its 413, never a reset connection), slow clients that dribble a request (each must be cut
 * off by the peer, not give up on their own), and bursts of many concurrent connections (each must
 * be answered). Each attempt is recorded with whether its peer stayed up (not paused, killed or
 * restarted) meanwhile; check.mjs's checkAbuse judges the record.
 */
import { request } from 'node:http'
import { connect } from 'node:net'

const OVERSIZE = Buffer.alloc(8 * 1024 * 1024, 'x')

export class Abuse {
  constructor(cluster, rng) {
    this.cluster = cluster
    this.rng = rng
    this.counts = { oversize: 0, oversize413: 0, slow: 0, slowCut: 0, burst: 0, burstAnswered: 0 }
    this.record = { bursts: [], slows: [], oversizes: [] }
    this.running = false
  }

  target() {
    const live = this.cluster.peers.filter((p) => p.up && !p.paused)
    return live.length === 0 ? undefined : live[Math.floor(this.rng() * live.length)]
  }

  /** Whether `peer` has been up and running since `since`, its count of interruptions when an attempt began. */
  stayedUp(peer, since) {
    return peer.up && !peer.paused && peer.interruptions === since
  }

  /** One oversize upload; anything but a 413 counts only if the peer stayed up meanwhile. */
  oversize(peer) {
    return new Promise((resolve) => {
      const since = peer.interruptions
      const entry = { peer: peer.i, status: 0, stayedUp: false }
      this.record.oversizes.push(entry)
      const req = request(`${this.cluster.url(peer.i)}/save`, { method: 'POST', agent: false }, (res) => {
        res.resume()
        res.on('end', () => {
          entry.status = res.statusCode
          if (res.statusCode === 413) this.counts.oversize413++
          entry.stayedUp = this.stayedUp(peer, since)
          resolve()
        })
      })
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
      req.on('error', (err) => {
        entry.status = err.code ?? err.message
        entry.stayedUp = this.stayedUp(peer, since)
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
      const since = peer.interruptions
      const entry = { peer: peer.i, cutByPeer: false, stayedUp: false }
      this.record.slows.push(entry)
      const url = new URL(this.cluster.url(peer.i))
      const socket = connect(Number(url.port), url.hostname)
      const dribble = setInterval(() => socket.writable && socket.write('x'), 300)
      let gaveUp = false
      // Giving up on its own is not being cut off: it is counted apart.
      const giveUp = setTimeout(() => {
        gaveUp = true
        socket.destroy()
      }, 45_000)
      socket.on('error', () => {})
      socket.on('close', () => {
        clearInterval(dribble)
        clearTimeout(giveUp)
        entry.cutByPeer = !gaveUp
        entry.stayedUp = this.stayedUp(peer, since)
        if (entry.cutByPeer) this.counts.slowCut++
        resolve()
      })
      socket.write(`POST /sharedmem/save HTTP/1.1\r\nHost: ${url.host}\r\nContent-Length: 100000\r\n\r\n{`)
    })
  }

  /** 200 concurrent connections, each a read. */
  async burst(peer) {
    const since = peer.interruptions
    const entry = { peer: peer.i, sent: 200, answered: 0, stayedUp: false, failures: {} }
    this.record.bursts.push(entry)
    this.counts.burst += 200
    const one = () =>
      fetch(`${this.cluster.url(peer.i)}/getCounter?counter=c0`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => {
          if (!r.ok) return
          entry.answered++
          this.counts.burstAnswered++
        })
        .catch((err) => {
          // A timeout (an answer slower than 10 s) and a refused or reset connection read differently.
          const why = err.cause?.code ?? err.name
          entry.failures[why] = (entry.failures[why] ?? 0) + 1
        })
    await Promise.all(Array.from({ length: 200 }, one))
    entry.stayedUp = this.stayedUp(peer, since)
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
