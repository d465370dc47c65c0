// A TCP relay that holds every chunk for a random delay (in order), for kernels without tc netem:
// the chaos run's simulated hosts redirect incoming p2p connections through it.
// Usage: node delay-proxy.mjs <listen port> <target host> <target port> <delay ms> <jitter ms>
import { connect, createServer } from 'node:net'

const [listenPort, targetHost, targetPort, delay, jitter] = process.argv.slice(2)
const HIGH_WATER = 4 * 1024 * 1024

/** Relays `from` to `to`, each chunk `delay` ± `jitter` ms later, in order (one queue, one timer). */
function relay(from, to) {
  const queue = []
  let last = 0
  let queued = 0
  let ended = false
  let timer
  const flush = () => {
    timer = undefined
    const now = Date.now()
    while (queue.length > 0 && queue[0].at <= now) {
      const { chunk } = queue.shift()
      queued -= chunk.length
      if (!to.destroyed) to.write(chunk)
    }
    if (queued <= HIGH_WATER) from.resume()
    if (queue.length > 0) timer = setTimeout(flush, queue[0].at - now)
    else if (ended) to.end()
  }
  from.on('data', (chunk) => {
    last = Math.max(last, Date.now() + Number(delay) - Number(jitter) + Math.random() * 2 * Number(jitter))
    queue.push({ chunk, at: last })
    queued += chunk.length
    if (queued > HIGH_WATER) from.pause()
    timer ??= setTimeout(flush, last - Date.now())
  })
  from.on('end', () => {
    ended = true
    if (queue.length === 0 && timer === undefined) to.end()
  })
  from.on('error', () => to.destroy())
  from.on('close', () => {
    if (!ended) to.destroy()
  })
}

const server = createServer({ noDelay: true }, (inbound) => {
  const outbound = connect({ host: targetHost, port: Number(targetPort), noDelay: true })
  relay(inbound, outbound)
  relay(outbound, inbound)
})
server.listen(Number(listenPort), '0.0.0.0', () => process.stdout.write('ready\n'))
process.once('SIGTERM', () => process.exit(0))
