/**
 * `sharedmem peer` / `sharedmem server`: runs a standalone peer until SIGINT or
 * SIGTERM, printing its addresses on start and joins and leaves as they happen.
 */
import { once } from 'node:events'
import { DEFAULT_PEER_PORT } from '../constants.js'
import { startHttpServer } from '../http/server.js'
import { createPeer } from '../peer/peer.js'
import type { CliIo } from './index.js'

export interface PeerCommandOptions {
  listen?: string[]
  bootstrap?: string[]
  identity?: string
  swarm: string
  http?: number
  httpHost: string
}

export async function runPeer(opts: PeerCommandOptions, io: CliIo): Promise<number> {
  // Listen for signals before anything is printed: a supervisor may signal as soon as it reads "ready".
  const signal = Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')])
  const peer = await createPeer({
    listen: opts.listen ?? [String(DEFAULT_PEER_PORT)],
    bootstrap: opts.bootstrap ?? [],
    identity: opts.identity,
    swarm: opts.swarm
  })
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined
  try {
    if (opts.http !== undefined) http = await startHttpServer(peer, { host: opts.httpHost, port: opts.http })
  } catch (err) {
    await peer.stop()
    throw err
  }
  io.out(`sharedmem peer ${peer.peerId} (swarm "${opts.swarm}")`)
  for (const addr of peer.addresses) io.out(`listening ${addr}`)
  if (http !== undefined) {
    io.out(`http ${http.url}`)
    io.out(`test page ${http.url}/testapp`)
  }
  if (opts.identity === undefined) io.out('note: no --identity file, so this peer gets a new id at each start')
  peer.on('peer:join', (id) => io.out(`join ${id}`))
  peer.on('peer:leave', (id) => io.out(`leave ${id}`))
  io.out('ready')

  const [name] = await signal
  io.out(`stopping (${String(name ?? 'signal')})`)
  await http?.close()
  await peer.stop()
  io.out('stopped')
  return 0
}
