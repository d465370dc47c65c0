/** The values a replica holds: what JSON can carry, and the limits one must meet. */

import type { Json } from '../contract.js'

/** Any value JSON can carry (declared in the contract, where every public type is). */
export type { Json }

/**
 * Limits a value must meet. `maxBytes` bounds its MessagePack size, measured
 * exactly for the encoder used here (the shortest form of every integer, string,
 * array and map header, sizes.ts) without encoding; the writer and every receiver
 * check the same figure, so a value one peer accepts is never refused by another
 * with the same limits.
 */
export interface ValueLimits {
  maxDepth: number
  maxBytes: number
}

/** No limit: for measuring a value already checked. */
export const UNLIMITED: ValueLimits = { maxDepth: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY }
