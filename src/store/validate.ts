/**
 * Checks on the names and deadlines of what enters the replica, from the local
 * API and from the network alike. Values have their own grammar (src/value/).
 */
import { invalidArgument, invalidName } from '../errors.js'
import { describe } from '../value/check.js'

/**
 * The latest deadline (`expiresAt`, and any wall time) a peer stores or accepts: the last
 * instant a JavaScript Date can hold (year 275760), well inside the safe integers, so that
 * every deadline a save computes is one every peer decodes the same way.
 */
export const MAX_DEADLINE = 8.64e15

/** Validates a collection, key or counter name and returns it. */
export function checkName(kind: string, name: unknown, maxLength: number): string {
  if (name === undefined || name === null) throw invalidArgument(`${kind} is required`)
  if (typeof name !== 'string') throw invalidArgument(`${kind} must be a string, got ${describe(name)}`)
  if (name.length === 0) throw invalidName(`${kind} must not be empty`)
  if (name.length > maxLength) throw invalidName(`${kind} is ${name.length} characters long; the limit is ${maxLength}`)
  // UTF-8 (the wire, the disk) cannot carry a lone surrogate: it would arrive as U+FFFD, another name.
  if (!name.isWellFormed()) throw invalidName(`${kind} holds an unpaired UTF-16 surrogate, which UTF-8 cannot carry`)
  return name
}

// Until every importer names src/value/json.ts (files being reworked at the same time).
export type { Json } from '../value/json.js'
