import { expect, it } from 'vitest'
import { ErrorCode } from '../../src/index.js'
import { classicBehaviours } from '../fixtures/classic.js'
import { startPeer } from '../fixtures/peers.js'

classicBehaviours('embedded peer', async () => {
  const mem = await startPeer()
  return { mem, close: () => mem.stop() }
})

it('rejects non-JSON values that only the embedded API can be handed', async () => {
  const mem = await startPeer()
  try {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const variable of [() => 1, Symbol('s'), cyclic, new Date(), 1n]) {
      await expect(mem.save({ collection: 'c', key: 'k', variable })).rejects.toEqual(
        expect.objectContaining({ code: ErrorCode.INVALID_VALUE })
      )
    }
    expect(mem.getArraySync({ collection: 'c' })).toEqual({})
  } finally {
    await mem.stop()
  }
})

it('returns values that cannot be changed by mutating them', async () => {
  const mem = await startPeer()
  try {
    const original = { list: [1] }
    await mem.save({ collection: 'c', key: 'k', variable: original })
    original.list.push(2)
    const read = mem.getSync({ collection: 'c', key: 'k' }) as { list: number[] }
    expect(read).toEqual({ list: [1] })
    expect(() => read.list.push(3)).toThrow(TypeError)
  } finally {
    await mem.stop()
  }
})
