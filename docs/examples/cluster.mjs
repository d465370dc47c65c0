// node:cluster with 4 workers sharing one replica: `node cluster.mjs`, then
//   curl -X PUT -H 'content-type: application/json' -d true http://127.0.0.1:3000/flags/beta
//   curl http://127.0.0.1:3000/flags/beta        # any worker answers {"value":true}
// A worker that dies is replaced; the new one catches up from the others. Ctrl-C stops them all.
import cluster from 'node:cluster'

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? 4)
  let stopping = false
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    console.log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    cluster.fork()
  })
  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM')
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  // Once every worker has stopped, nothing is left for the primary to do: it exits.
} else {
  await import('./app.cjs')
}
