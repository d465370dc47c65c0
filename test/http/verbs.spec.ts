import { describe, expect, expectTypeOf, it } from 'vitest'
import type { CounterConfig, RemoteSharedMem, SharedMem } from '../../src/contract.js'
import { ErrorCode } from '../../src/errors.js'
import { connect } from '../../src/http/client.js'
import { perfectApiConfig } from '../../src/http/perfectapi.js'
import { VERB_ENTRIES, VERBS, type VerbTable } from '../../src/http/verbs.js'

const CONTRACT_VERBS = [
  'save',
  'get',
  'remove',
  'getArray',
  'increment',
  'decrement',
  'resetCounter',
  'getCounter',
  'clear',
  'touch',
  'keys'
]

describe('the verb table', () => {
  it('has one entry for each verb of the contract, and nothing else', () => {
    expect(VERB_ENTRIES.map(([verb]) => verb)).toEqual(CONTRACT_VERBS)
    expectTypeOf<keyof typeof VERBS>().toEqualTypeOf<keyof SharedMem>()
  })

  it('does not compile with a verb of the contract missing, nor with one the contract lacks', () => {
    const { getCounter: _left, ...missing } = VERBS
    // @ts-expect-error: getCounter is missing
    const short: VerbTable = missing
    // @ts-expect-error: the contract has no verb flush
    const long: VerbTable = { ...VERBS, flush: VERBS.getCounter }
    // A verb added to the contract and not to the table:
    type Grown = SharedMem & { flush(config: CounterConfig): Promise<number> }
    // @ts-expect-error: the table has no entry for flush
    const behind: VerbTable<Grown> = VERBS
    expect([short, long, behind].every((table) => 'save' in table)).toBe(true)
  })

  it('makes every verb a method of the remote client, checked before it is sent', async () => {
    // Nothing listens at port 9 (discard): a verb that reached the network would fail with ERR_REMOTE.
    const remote: RemoteSharedMem = connect('http://127.0.0.1:9/sharedmem', { timeout: 2_000 })
    for (const verb of CONTRACT_VERBS) {
      const call = (remote as unknown as Record<string, (config: unknown) => Promise<unknown>>)[verb]
      expect(typeof call, verb).toBe('function')
      await expect(call(null), verb).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT })
    }
  })

  it('makes every verb a command of the perfectapi description, in the same order', () => {
    const { signature } = perfectApiConfig() as { signature: Array<{ name: string; parameters: unknown[] }> }
    expect(signature.map((command) => command.name)).toEqual(CONTRACT_VERBS)
    expect(signature.every((command) => command.parameters.length > 0)).toBe(true)
  })
})
