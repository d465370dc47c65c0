/**
 * createPeer refuses an option it does not know, naming the nearest known one: a misspelled
 * option was ignored without a word, and the peer ran on the default.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createPeer, ErrorCode, type PeerOptions } from '../../src/index.js'
import { nearest, PEER_OPTION_NAMES } from '../../src/peer/options.js'

async function refusal(options: unknown): Promise<{ code?: string; message: string }> {
  return createPeer(options as PeerOptions).then(
    async (peer) => {
      await peer.stop()
      throw new Error(`createPeer took ${JSON.stringify(options)}`)
    },
    (err: { code?: string; message: string }) => err
  )
}

/** The option names declared in the contract's PeerOptions, read from its source. */
function declaredOptions(): string[] {
  const source = readFileSync(new URL('../../src/contract/peer.ts', import.meta.url), 'utf8')
  const body = /export interface PeerOptions \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? ''
  return [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1])
}

describe('createPeer options', () => {
  it.each([
    ['bootstrapp', 'bootstrap'],
    ['dataDirr', 'dataDir'],
    ['listn', 'listen'],
    ['tombstoneTTL', 'tombstoneTtl'],
    ['swarm_key', 'swarmKey']
  ])('refuses %s with ERR_INVALID_ARGUMENT, naming %s', async (name, known) => {
    const err = await refusal({ rendezvous: false, [name]: 'x' })
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT)
    expect(err.message).toContain(`"${name}"`)
    expect(err.message).toContain(`"${known}"`)
  })

  it.each([
    // A timer's delay past 2^31 − 1 ms: Node fires it after 1 ms, every time.
    ['collectInterval', 3e9],
    ['syncInterval', 0],
    ['syncTimeout', -1],
    ['dialTimeout', Number.NaN],
    ['fsyncInterval', -5],
    ['tombstoneTtl', Number.POSITIVE_INFINITY],
    ['memberTimeout', Number.NaN],
    ['maxValueBytes', 1.5],
    ['maxBatchEntries', 0],
    ['maxEntries', 0],
    ['maxMessageBytes', '4194304']
  ])('refuses %s: %s with ERR_INVALID_ARGUMENT, naming it and its range', async (name, value) => {
    const err = await refusal({ rendezvous: false, [name]: value })
    expect(err.code).toBe(ErrorCode.INVALID_ARGUMENT)
    expect(err.message).toContain(`option ${name} must be`)
  })

  it('takes the ends of each range: no fsync wait, no cap on entries, the longest timer', async () => {
    const peer = await createPeer({
      rendezvous: false,
      fsyncInterval: 0,
      maxEntries: Number.POSITIVE_INFINITY,
      collectInterval: 2 ** 31 - 1,
      tombstoneTtl: 10 * 365 * 86_400_000
    })
    await peer.stop()
  })

  it('refuses options that are not an object', async () => {
    expect((await refusal(null)).code).toBe(ErrorCode.INVALID_ARGUMENT)
    expect((await refusal(['listen'])).code).toBe(ErrorCode.INVALID_ARGUMENT)
  })

  it('knows every option of the contract, and only those', () => {
    const declared = declaredOptions()
    expect(declared.length).toBeGreaterThan(30)
    expect([...PEER_OPTION_NAMES].sort()).toEqual(declared.sort())
  })

  it('names the nearest of the candidates', () => {
    expect(nearest('syncIntervall', PEER_OPTION_NAMES)).toBe('syncInterval')
    expect(nearest('MAXENTRIES', PEER_OPTION_NAMES)).toBe('maxEntries')
  })
})
