// node:cluster with 4 workers sharing one replica: `node cluster.mjs`, then
//   curl -X PUT -H 'content-type: application/json' -d true http://127.0.0.1:8080/flags/beta
//   curl http://127.0.0.1:8080/flags/beta        # any worker answers {"value":true}
// A worker that dies after it served is replaced, and the new one catches up from the others; one that
// fails before it served is not (the primary exits 1 once none is left). Ctrl-C stops them all.
import cluster from 'node:cluster'

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? 4)
  let stopping = false
  const served = new Set() // ids of the workers that listened
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('listening', (worker) => served.add(worker.id))
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    if (!served.delete(worker.id)) {
      // It failed before it ever served (a port in use, a bad setting): another would fail alike.
      console.error(`worker ${worker.process.pid} exited (${signal ?? code}) before it served; not starting another`)
      process.exitCode = 1
      return
    }
    console.log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    cluster.fork()
  })
  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM')
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  // Once every worker has stopped (or failed), nothing is left for the primary to do: it exits.
} else {
  await import('./app.cjs')
}
