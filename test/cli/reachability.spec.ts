/**
 * How `sharedmem status` and `sharedmem peer`'s log tell of bootstrap addresses: read from a real
 * peer whose bootstrap address has nothing listening, on 127.0.0.1.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { statusLine } from '../../src/cli/peer.js'
import { watchBootstrap } from '../../src/cli/reachability.js'
import { formatStatus } from '../../src/cli/status.js'
import type { PeerStatus } from '../../src/contract.js'
import { startPeer, stopAll } from '../fixtures/peers.js'
import { closedPort } from '../fixtures/ports.js'
import { waitFor } from '../fixtures/wait.js'

afterAll(stopAll)

describe('bootstrap reachability in the CLI', () => {
  it('status says "waiting for bootstrap" and why the address is unreachable; the log warns once', async () => {
    const port = await closedPort()
    const peer = await startPeer({ bootstrap: [`127.0.0.1:${port}`], redialInterval: 100 })
    const lines: string[] = []
    const log = { error: () => {}, info: () => {}, debug: () => {}, warn: (l: string) => lines.push(l) }
    const failures = () => peer.status().bootstrap.addresses[0]?.failures ?? 0
    const before = failures()
    watchBootstrap(peer, log)
    await waitFor(() => failures() >= before + 3, 'three more failed dials')

    const status = peer.status()
    const table = formatStatus(status)
    expect(table).toMatch(/^sync\s+waiting for bootstrap;/m)
    expect(table).toMatch(
      new RegExp(`^bootstrap\\s+/ip4/127\\.0\\.0\\.1/tcp/${port}: unreachable \\(refused\\): connection refused`, 'm')
    )
    expect(statusLine(status)).toMatch(/never synced, waiting for bootstrap$/)
    // What the dials found before the watch began, once; the redials since, not again.
    expect(lines).toEqual([expect.stringContaining(`bootstrap /ip4/127.0.0.1/tcp/${port} unreachable (refused)`)])
  })

  it('a peer told of no one is in sync by itself, with no bootstrap row to worry about', async () => {
    const peer = await startPeer()
    const status: PeerStatus = peer.status()
    expect(status.bootstrap).toEqual({ waiting: false, addresses: [] })
    expect(formatStatus(status)).toMatch(/^bootstrap\s+\(none\)$/m)
    expect(statusLine(status)).toMatch(/in sync$/)
  })
})
