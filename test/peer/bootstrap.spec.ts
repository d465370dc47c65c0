/**
 * What a bootstrap dial's failure is called (dial-failure.ts) and when a change of a bootstrap
 * address is reported (bootstrap.ts): from errors shaped as libp2p throws them, no network.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { beforeAll, describe, expect, it } from 'vitest'
import type { BootstrapAddressStatus } from '../../src/contract.js'
import { BootstrapAddresses } from '../../src/peer/bootstrap.js'
import { dialFailure } from '../../src/peer/dial-failure.js'

const named = (name: string, message: string, code?: string) => Object.assign(new Error(message), { name, code })

describe('dialFailure', () => {
  it('names each failure a user can act on', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    expect(dialFailure(refused, 5000).problem).toBe('refused')
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    expect(dialFailure(timeout, 5000)).toMatchObject({
      problem: 'timeout',
      message: expect.stringContaining('5000 ms')
    })
    expect(dialFailure(named('EncryptionFailedError', 'unexpected end of input'), 5000).problem).toBe('swarm-key')
    expect(dialFailure(named('UnexpectedEOFError', 'unexpected end of input'), 5000).problem).toBe('swarm-key')
    expect(dialFailure(named('Error', 'getaddrinfo ENOTFOUND nowhere', 'ENOTFOUND'), 5000).problem).toBe('unreachable')
    expect(dialFailure(new AggregateError([refused]), 5000).problem).toBe('refused')
    expect(dialFailure(named('InvalidPeerIdError', 'Can not dial self'), 5000)).toEqual({
      problem: 'error',
      message: 'InvalidPeerIdError: Can not dial self'
    })
  })
})

describe('BootstrapAddresses', () => {
  let a: PeerId
  let b: PeerId
  beforeAll(async () => {
    ;[a, b] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]).then((keys) =>
      keys.map(peerIdFromPrivateKey)
    )
  })
  const refused = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })

  it('reports a change of state or problem once, not each failed redial', () => {
    const addr = multiaddr('/ip4/127.0.0.1/tcp/4001')
    const events: BootstrapAddressStatus[] = []
    const book = new BootstrapAddresses([addr], 1000, (e) => events.push(e))
    expect(book.status).toEqual([
      { address: addr.toString(), state: 'dialling', peerId: null, problem: null, message: null, failures: 0 }
    ])
    for (let i = 0; i < 3; i++) book.dialled(addr, { err: refused })
    expect(events.map((e) => [e.state, e.problem, e.failures])).toEqual([['unreachable', 'refused', 1]])
    expect(book.status[0]).toMatchObject({ state: 'unreachable', problem: 'refused', failures: 3 })
    book.dialled(addr, { err: named('EncryptionFailedError', 'x') })
    book.dialled(addr, { peer: a })
    book.dialled(addr, { peer: a })
    expect(events.map((e) => [e.state, e.problem])).toEqual([
      ['unreachable', 'refused'],
      ['unreachable', 'swarm-key'],
      ['connected', null]
    ])
    expect(book.status[0]).toMatchObject({ state: 'connected', peerId: a.toString(), failures: 0 })
  })

  it('tells when the peer reached is not the one the address names, and keeps it', () => {
    const addr = multiaddr(`/ip4/127.0.0.1/tcp/4001/p2p/${a}`)
    const events: BootstrapAddressStatus[] = []
    const book = new BootstrapAddresses([addr], 1000, (e) => events.push(e))
    book.dialled(addr, { peer: b })
    expect(events).toEqual([book.status[0]])
    expect(book.status[0]).toMatchObject({ state: 'connected', peerId: b.toString(), problem: 'peer-id' })
    expect(book.status[0].message).toContain(a.toString())
    // Connected to b: no redial while b is connected; a redial once it is not.
    expect(book.toDial((p) => p.equals(b))).toEqual([])
    expect(book.toDial(() => false)).toEqual([addr])
  })
})
