/**
 * A peer dialled by one with another swarm key (or none) says so on the RECEIVING side too: a
 * warning through its logger once per remote host, a `reject` event (source `connection`), and a
 * count in status().rejections. Real peers in this process, on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { PeerLogger, RejectEvent } from '../../src/index.js'
import { generateSwarmKey } from '../../src/peer/swarm-key.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

afterEach(async () => {
  await stopAll()
})

function collecting(): { logger: PeerLogger; warnings: string[] } {
  const warnings: string[] = []
  const noop = (): void => {}
  return { warnings, logger: { trace: noop, debug: noop, info: noop, error: noop, warn: (m) => warnings.push(m) } }
}

describe('a failed inbound handshake', () => {
  it('another swarm key: warned once per host on the receiving side, counted at every attempt', async () => {
    const { logger, warnings } = collecting()
    const receiver = await startPeer({ rendezvous: false, swarmKey: generateSwarmKey(), logger })
    const events: RejectEvent[] = []
    receiver.on('reject', (e) => events.push(e))
    // Redials every 100 ms: several failed handshakes from the same host.
    await startPeer({
      rendezvous: false,
      swarmKey: generateSwarmKey(),
      bootstrap: [receiver.addresses[0]],
      redialInterval: 100
    })
    await waitFor(
      () => (receiver.status().rejections['connection:swarm-key'] ?? 0) >= 3,
      () => `3 refused handshakes: ${JSON.stringify(receiver.status().rejections)}`
    )
    const said = warnings.filter((w) => w.includes('failed its handshake'))
    expect(said).toEqual([expect.stringMatching(/inbound connection from 127\.0\.0\.1 .*swarm key differs/)])
    expect(events[0]).toMatchObject({ source: 'connection', reason: 'swarm-key', first: true })
    expect(receiver.status().connections).toBe(0)
  })

  it('a peer without a swarm key dialling one with a key: the receiver says so as well', async () => {
    const { logger, warnings } = collecting()
    const receiver = await startPeer({ rendezvous: false, swarmKey: generateSwarmKey(), logger })
    await startPeer({ rendezvous: false, bootstrap: [receiver.addresses[0]] })
    await waitFor(
      () => warnings.some((w) => w.includes('failed its handshake')),
      () => `a warning (got ${JSON.stringify(warnings)}, ${JSON.stringify(receiver.status().rejections)})`
    )
  })

  it('a handshake that succeeds is not reported', async () => {
    const key = generateSwarmKey()
    const { logger, warnings } = collecting()
    const receiver = await startPeer({ rendezvous: false, swarmKey: key, logger })
    const dialler = await startPeer({ rendezvous: false, swarmKey: key, bootstrap: [receiver.addresses[0]] })
    await dialler.ready()
    await receiver.ready()
    await dialler.stop()
    await waitFor(() => receiver.status().connections === 0, 'the connection to close')
    expect(warnings.filter((w) => w.includes('handshake'))).toEqual([])
    expect(Object.keys(receiver.status().rejections)).toEqual([])
  })
})
