/**
 * What a listen or bootstrap address may be: each kind a user may type is either taken (and means
 * what it says) or refused with ERR_INVALID_ADDRESS in one line, before any port is taken.
 */
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../../src/errors.js'
import { parseBootstrapAddress, parseListenAddress } from '../../src/peer/addresses.js'

const ID = '12D3KooWFLUULvQR8oqvhC9ZGp8TQnSrZUMVJ9SRNVedYHNvME4q'

function refusal(parse: (input: string) => unknown, input: string): { code?: string; message: string } {
  try {
    parse(input)
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error(`${input} was taken`)
}

describe('listen addresses', () => {
  it.each([
    ['7400', '/ip4/127.0.0.1/tcp/7400'],
    ['0.0.0.0:7400', '/ip4/0.0.0.0/tcp/7400'],
    ['[::1]:7400', '/ip6/::1/tcp/7400'],
    ['localhost:7400', '/ip4/127.0.0.1/tcp/7400'],
    ['/dns4/localhost/tcp/7400', '/ip4/127.0.0.1/tcp/7400'],
    ['/dns/localhost/tcp/7400', '/ip4/127.0.0.1/tcp/7400'],
    ['/dns6/localhost/tcp/7400', '/ip6/::1/tcp/7400'],
    ['/ip6/::/tcp/0', '/ip6/::/tcp/0']
  ])('takes %s as %s', (input, expected) => {
    expect(parseListenAddress(input).toString()).toBe(expected)
  })

  it.each([
    ['/dns4/db1.example/tcp/7400', 'host name'],
    ['db1.example:7400', 'host name'],
    ['/ip4/127.0.0.1/udp/7400', 'TCP only'],
    ['/ip4/127.0.0.1/udp/7400/quic-v1', 'TCP only'],
    ['/ip4/127.0.0.1/tcp/7400/ws', 'TCP only'],
    ['/ip4/127.0.0.1', 'TCP only'],
    [`/ip4/127.0.0.1/tcp/7400/p2p/${ID}`, 'peer id'],
    ['nowhere', 'expected a multiaddr']
  ])('refuses %s in one line (%s)', (input, why) => {
    const err = refusal(parseListenAddress, input)
    expect(err.code).toBe(ErrorCode.INVALID_ADDRESS)
    expect(err.message).toContain(why)
    expect(err.message).not.toContain('\n')
  })
})

describe('bootstrap addresses', () => {
  it.each([
    '/ip4/127.0.0.1/tcp/7400',
    `/ip4/127.0.0.1/tcp/7400/p2p/${ID}`,
    '/dns4/localhost/tcp/7400',
    `/dns/db1.example/tcp/7400/p2p/${ID}`,
    'db1.example:7400',
    '[::1]:7400'
  ])('takes %s', (input) => {
    expect(() => parseBootstrapAddress(input)).not.toThrow()
  })

  it.each([
    ['/ip4/127.0.0.1/tcp/7400/p2p/notapeerid', 'not a peer id'],
    ['/ip4/127.0.0.1/udp/7400', 'TCP only'],
    [`/p2p/${ID}`, 'TCP only'],
    ['/ip4/127.0.0.1/tcp/7400/ws', 'TCP only']
  ])('refuses %s in one line (%s)', (input, why) => {
    const err = refusal(parseBootstrapAddress, input)
    expect(err.code).toBe(ErrorCode.INVALID_ADDRESS)
    expect(err.message).toContain(why)
    expect(err.message).not.toContain('\n')
  })
})
