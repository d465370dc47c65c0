// A web app whose processes share one replica: run it under node:cluster (cluster.mjs) or pm2
// (pm2/ecosystem.config.cjs). Each process embeds a peer; createPeer() with no addresses joins
// the other processes of this host. Handlers read with getSync: no network hop, no await.
const { createPeer } = require('sharedmem')
const Fastify = require('fastify')

async function main() {
  const mem = await createPeer()
  // Serve nothing before this worker holds what the others hold (its first sync round ended).
  await mem.ready()
  const app = Fastify()

  app.get('/flags/:name', async (req) => ({
    pid: process.pid,
    value: mem.getSync({ collection: 'flags', key: req.params.name })
  }))
  app.put('/flags/:name', async (req) => {
    await mem.save({ collection: 'flags', key: req.params.name, variable: req.body ?? null })
    return { pid: process.pid, saved: true }
  })
  app.post('/hits', async () => ({ pid: process.pid, hits: await mem.increment({ counter: 'hits' }) }))
  app.get('/hits', async () => ({ pid: process.pid, hits: mem.getCounterSync({ counter: 'hits' }) }))
  app.get('/peers', async () => ({ pid: process.pid, peers: mem.status().peers.length }))

  // Under a cluster, every process listens on this one port; the primary shares the connections out.
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 8080) })
  console.log(`worker ${process.pid} serving http://127.0.0.1:${app.server.address().port}`)
  process.send?.('ready') // pm2's wait_ready (ecosystem.config.cjs); ignored by node:cluster's primary

  let stopping = false
  const stop = async () => {
    if (stopping) return // a second signal while stopping
    stopping = true
    await app.close()
    await mem.stop()
    process.exit(0)
  }
  process.once('SIGINT', stop) // Ctrl-C, and pm2 stop
  process.once('SIGTERM', stop)
  process.on('message', (message) => message === 'shutdown' && stop()) // pm2 on Windows
}

main().catch((err) => {
  // One line: under a cluster, every worker that fails says it.
  console.error(`worker ${process.pid} cannot start: ${err.message}`)
  process.exit(1)
})
