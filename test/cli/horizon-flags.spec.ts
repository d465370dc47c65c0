/**
 * --tombstone-ttl and --collect-interval reach the peer: with a short horizon, a removed key's
 * tombstone is collected within moments (with the 24 h default it would stay). The chaos run's
 * horizon fault depends on these flags.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/index.js'
import { killAll, startPeerProcess } from '../fixtures/processes.js'
import { waitFor } from '../fixtures/wait.js'

afterAll(killAll)

describe('the tombstone horizon flags', () => {
  it('are documented and refuse a value that is not a positive number', async () => {
    let out = ''
    let err = ''
    const io = { out: (l: string) => (out += `${l}\n`), err: (l: string) => (err += `${l}\n`) }
    expect(await main(['node', 'sharedmem', 'peer', '--help'], io)).toBe(0)
    expect(out).toContain('--tombstone-ttl <ms>')
    expect(out).toContain('--collect-interval <ms>')
    expect(await main(['node', 'sharedmem', 'peer', '--tombstone-ttl', '0'], io)).not.toBe(0)
    expect(err).toContain('positive')
  })

  it('collect a tombstone once it is older than --tombstone-ttl', async () => {
    // A clock skew allowance under half the TTL, so that no extra clock margin holds collection back.
    const p = await startPeerProcess([
      '--tombstone-ttl',
      '300',
      '--max-clock-skew',
      '100',
      '--collect-interval',
      '100',
      '--rendezvous',
      'off'
    ])
    await p.client.save({ collection: 'c', key: 'k', variable: 1 })
    await p.client.remove({ collection: 'c', key: 'k' })
    expect((await p.client.status()).dead).toBe(1)
    await waitFor(async () => (await p.client.status()).dead === 0, 'the tombstone to be collected', {
      timeout: 10_000,
      interval: 100
    })
    expect(await p.stop()).toBe(0)
  })
})
