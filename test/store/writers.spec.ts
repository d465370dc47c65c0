import { describe, expect, it } from 'vitest'
import { Writers } from '../../src/store/writers.js'

describe('writers', () => {
  it('number every id, the empty one (a counter’s first window) asked first included', () => {
    const w = new Writers()
    for (const id of ['', 'a', '', 'b', 'a']) expect(w.idOf(w.numberOf(id))).toBe(id)
    expect(w.all()).toEqual(['', 'a', 'b'])
  })
})
