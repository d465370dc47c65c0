// One GUN peer process (npm gun 0.2020.x, in memory: no radisk, no localStorage, no
// multicast), driven by run.mjs over IPC like worker.mjs: the peer-to-peer anchor of the bench.
// It listens on 127.0.0.1 and connects to the peers it is given by websocket.
import http from 'node:http'
import Gun from 'gun'
import { serve } from './ipc.mjs'

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
let gun
let server
const seen = new Set()
let target = Number.POSITIVE_INFINITY
let lastAt = 0
let done

const handlers = {
  async start({ peers = [] }) {
    server = http.createServer()
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    gun = Gun({
      web: server,
      peers: peers.map((port) => `http://127.0.0.1:${port}/gun`),
      radisk: false,
      localStorage: false,
      multicast: false,
      stats: false,
      axe: false
    })
    // Every key of the benchmark's node, as it arrives (own writes included).
    gun
      .get('bench')
      .map()
      .on((_value, key) => {
        if (seen.has(key)) return
        seen.add(key)
        lastAt = now()
        if (seen.size >= target) done?.()
      })
    return { port: server.address().port }
  },
  watch({ expect }) {
    target = expect
    return new Promise((resolve) => {
      done = resolve
      if (seen.size >= target) resolve()
    }).then(() => ({ received: seen.size }))
  },
  /** Resolves once `expect` keys are seen here, or after `timeout` ms: how many and when the last came. */
  async watched({ expect, timeout }) {
    target = expect
    const reached = new Promise((resolve) => {
      done = resolve
      if (seen.size >= target) resolve()
    })
    await Promise.race([reached, sleep(timeout)])
    return { received: seen.size, lastAt }
  },
  async write({ n, size, prefix = 'w' }) {
    const pad = 'x'.repeat(size)
    const startedAt = now()
    const node = gun.get('bench')
    for (let i = 0; i < n; i++) {
      node.get(`${prefix}${i}`).put(pad)
      if (i % 500 === 499) await sleep(0)
    }
    return { startedAt }
  },
  rss() {
    return process.memoryUsage().rss
  },
  async stop() {
    server?.close()
    setImmediate(() => process.exit(0))
    return true
  }
}

serve(handlers)
