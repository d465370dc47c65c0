/**
 * Keyv's own compliance suite (@keyv/test-suite, unchanged), run against KeyvSharedMem on an
 * embedded peer and on a connect() client, plus what the suite does not cover: what another
 * process sees through the same collection.
 */
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import Keyv from 'keyv'
import * as vitest from 'vitest'
import { afterAll, describe, expect, it } from 'vitest'
import { KeyvSharedMem } from '../../src/adapters/keyv.js'
import { connect, type HttpServer, type SharedMemPeer, startHttpServer } from '../../src/index.js'
import { startPeer, startPeers, stopAll } from '../fixtures/peers.js'
import { waitFor } from '../fixtures/wait.js'

const embedded = await startPeer()
const served = await startPeer()
let server: HttpServer | undefined = await startHttpServer(served, { port: 0 })
const remote = connect(server.url)

afterAll(async () => {
  await server?.close()
  server = undefined
  await stopAll()
})

describe('@keyv/test-suite on an embedded peer', () => {
  const store = () => new KeyvSharedMem({ peer: embedded })
  keyvTestSuite(vitest, Keyv, store)
  keyvIteratorTests(vitest, Keyv, store)
})

describe('@keyv/test-suite on a connect() client', () => {
  const store = () => new KeyvSharedMem({ peer: remote })
  keyvTestSuite(vitest, Keyv, store)
  keyvIteratorTests(vitest, Keyv, store)
})

describe('KeyvSharedMem across peers', () => {
  it('a value set through one peer is read through another, with its ttl, under its namespace', async () => {
    const [a, b] = (await startPeers(2)) as [SharedMemPeer, SharedMemPeer]
    const one = new Keyv({ store: new KeyvSharedMem({ peer: a }), namespace: 'sessions' })
    const two = new Keyv({ store: new KeyvSharedMem({ peer: b }), namespace: 'sessions' })
    await one.set('user', { name: 'ada' }, 60_000)
    await waitFor(async () => (await two.get('user')) !== undefined, 'the value at the second peer')
    expect(await two.get('user')).toEqual({ name: 'ada' })
    // The namespace is the collection, and a key is stored without Keyv's prefix.
    expect(Object.keys(b.getArraySync({ collection: 'sessions' }))).toEqual(['user'])
    await two.clear()
    await waitFor(async () => (await one.get('user')) === undefined, 'the clear at the first peer')
  })

  it('refuses a missing peer with a typed error', () => {
    expect(() => new KeyvSharedMem({} as never)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})
