// pm2 cluster mode with 4 instances sharing one replica:
//   pm2 start ecosystem.config.cjs     (or pm2-runtime start ecosystem.config.cjs in a container)
// No port or address per instance: each instance's createPeer() finds the others on this host.
module.exports = {
  apps: [
    {
      name: 'sharedmem-app',
      script: require('node:path').join(__dirname, '..', 'app.cjs'),
      instances: 4,
      exec_mode: 'cluster',
      // Time to stop the peer (publish pending writes, close connections) before pm2 kills it.
      kill_timeout: 5000,
      // A reload starts an instance's successor, and stops the old one only once the new one sent
      // 'ready' (app.cjs: after its first sync round): no instance serves from an empty replica.
      // listen_timeout bounds that wait: more than a lone peer's longest wait (12 s).
      wait_ready: true,
      listen_timeout: 15000,
      env: { PORT: process.env.PORT ?? 8080 }
    }
  ]
}
