/**
 * A port another process holds: createPeer rejects with ERR_ADDRESS_IN_USE and one line naming the
 * port and the option to change, instead of libp2p's multi-line advice and stack.
 */
import { describe, expect, it } from 'vitest'
import { AddressInUseError } from '../../src/errors.js'
import { createPeer, ErrorCode } from '../../src/index.js'
import { portHolder } from '../fixtures/ports.js'

/** A port on 127.0.0.1 that this test holds. */
const heldPort = portHolder()

describe('a listen port in use', () => {
  it('rejects with ERR_ADDRESS_IN_USE, naming the port and the listen option, in one line', async () => {
    const port = await heldPort()
    const err = await createPeer({ listen: [port], rendezvous: false }).then(
      () => expect.unreachable('the peer started on a held port'),
      (e: unknown) => e as AddressInUseError
    )
    expect(err).toBeInstanceOf(AddressInUseError)
    expect(err.code).toBe(ErrorCode.ADDRESS_IN_USE)
    expect(err.port).toBe(port)
    expect(err.host).toBe('127.0.0.1')
    expect(err.message).toContain(String(port))
    expect(err.message).toContain('listen')
    expect(err.message).not.toContain('\n')
  })
})
