/**
 * What the chaos clients write, drawn from a seeded PRNG across the domain the API accepts:
 * collection, key and counter names in all of Unicode that UTF-8 can carry (astral characters,
 * combining marks, NUL, right-to-left text, long names sharing a long prefix, up to the 1024
 * code-unit limit), values at the edges of JSON numbers and strings, and `expiresIn` from 1 ms to
 * far beyond any run. Unpaired surrogates are left out: the API refuses them (ERR_INVALID_NAME,
 * ERR_INVALID_VALUE), so they cannot be acknowledged and have nothing to check at the end.
 */

/** Longest name the API accepts, in UTF-16 code units (DEFAULT_MAX_KEY_LENGTH). */
export const MAX_NAME = 1024

/** Pieces of names, each well-formed: a name is a few of these around a unique number. */
const PIECES = [
  'a',
  'ü',
  'e\u0301', // e and a combining acute accent
  '\u0000',
  '名前',
  'שָׁלוֹם', // right-to-left, with combining points
  '😀',
  '𝔘𝔫𝔦', // mathematical fraktur: astral, two code units each
  '👩‍👩‍👧', // a family: astral characters joined by ZWJ
  '\uFEFF',
  '\uFFFD',
  ' ',
  '/',
  '%2F',
  '"\\',
  'constructor',
  'toString'
]

/** Collections the unique keys go to, besides `u`: the check compares every collection, not a list. */
export const EXTRA_COLLECTIONS = ['ü名😀', 'e\u0301\u0000x', '𝔘']

/** Counters besides c0–c2, with names from the same pieces. */
export const EXTRA_COUNTERS = ['ç😀', '\u0000n']

/** A name around `n` (unique when `n` is), a long one sometimes: long keys share a 600-unit prefix. */
export function drawName(rng, prefix, n) {
  const roll = rng()
  if (roll < 0.05) {
    const long = `${prefix}${'𝔘'.repeat(300)}#${n}`
    return long.length <= MAX_NAME ? long : long.slice(-MAX_NAME)
  }
  if (roll < 0.5) return `${prefix}${n}`
  const pieces = Array.from({ length: 1 + Math.floor(rng() * 3) }, () => PIECES[Math.floor(rng() * PIECES.length)])
  return `${prefix}${pieces.join('')}${n}`
}

/** Values at the edges: equal values on distinct keys too (messages that differ only in their key). */
const EDGE_VALUES = [
  1,
  0,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -1.5e-300,
  '',
  '\u0000',
  '😀'.repeat(64),
  'e\u0301名',
  true,
  null,
  [],
  {},
  { constructor: 1, toString: 'x', 'ü\u0000': [null, { '😀': -0.5 }] }
]

/** A value for a unique save: mostly distinct, sometimes one of the edge values. */
export function drawValue(rng, n, peer) {
  return rng() < 0.3 ? EDGE_VALUES[Math.floor(rng() * EDGE_VALUES.length)] : { n, by: peer, s: `ü😀${n}` }
}

/**
 * `expiresIn` for a TTL save: mostly 0.5–3 s (so expiry happens during the run), sometimes long
 * enough to outlive the run (to be found missing before it expires), and at the edges: 1 ms and a
 * deadline tens of thousands of years away, which every peer must still store and read back.
 */
export function drawExpiresIn(rng) {
  const roll = rng()
  if (roll < 0.6) return 500 + Math.floor(rng() * 2500)
  if (roll < 0.7) return 1
  if (roll < 0.8) return 2 ** 31 - 1
  if (roll < 0.9) return 1e15
  return 3_600_000
}
