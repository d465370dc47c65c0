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
      env: { PORT: process.env.PORT ?? 8080 }
    }
  ]
}
