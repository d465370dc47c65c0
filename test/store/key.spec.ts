/**
 * Keys as strings and as UTF-8 bytes (src/store/key.ts) compare and hash alike: a stored key (its
 * bytes) is the key a lookup names (a string) exactly when the two strings are equal.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashKey, KeyBytes, keyEquals } from '../../src/store/key.js'

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'))
/** The string whose UTF-16 units are the UTF-8 bytes of `s`: what a double-encoding makes of it ('café' → 'cafÃ©'). */
const mojibake = (s: string) => Buffer.from(s, 'utf8').toString('latin1')

describe('a key as a string and as UTF-8 bytes', () => {
  it('equal only when the strings are, mojibake of a key included', () => {
    // Keys of any script (no lone surrogates: checkName refuses them), and their double-encodings.
    const text = fc.string({ unit: 'grapheme', maxLength: 12 })
    const pair = fc.oneof(
      fc.tuple(text, text),
      text.map((s) => [mojibake(s), s] as [string, string]),
      text.map((s) => [s, mojibake(s)] as [string, string])
    )
    fc.assert(
      fc.property(pair, fc.nat({ max: 5 }), ([asked, stored], pad) => {
        // The stored key lies inside a larger buffer, as in a record.
        const bytes = new Uint8Array(pad + utf8(stored).length + 3)
        bytes.set(utf8(stored), pad)
        const length = utf8(stored).length
        expect(keyEquals(asked, bytes, pad, length)).toBe(asked === stored)
        expect(keyEquals(new KeyBytes(utf8(asked), 0, utf8(asked).length), bytes, pad, length)).toBe(asked === stored)
        if (asked === stored) expect(hashKey(asked)).toBe(hashKey(new KeyBytes(bytes, pad, pad + length)))
      }),
      { numRuns: 2000 }
    )
  })

  it("tells 'café' from its double-encoding 'cafÃ©', whose characters are the bytes of 'café'", () => {
    const bytes = utf8('café')
    expect(keyEquals('cafÃ©', bytes, 0, bytes.length)).toBe(false)
    expect(keyEquals('café', bytes, 0, bytes.length)).toBe(true)
    expect(keyEquals('cafe', utf8('cafe'), 0, 4)).toBe(true)
  })
})
