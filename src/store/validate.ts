/**
 * Checks on what enters the replica, from the local API and from the network
 * alike. Values are copied and deep-frozen on the way in, so that nobody can
 * change a replica by mutating an object they saved or read.
 */
import { ErrorCode, invalidArgument, invalidName, invalidValue, SharedMemError } from '../errors.js'

/** Any value JSON can carry. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** Validates a collection, key or counter name and returns it. */
export function checkName(kind: string, name: unknown, maxLength: number): string {
  if (name === undefined || name === null) throw invalidArgument(`${kind} is required`)
  if (typeof name !== 'string') throw invalidArgument(`${kind} must be a string, got ${describe(name)}`)
  if (name.length === 0) throw invalidName(`${kind} must not be empty`)
  if (name.length > maxLength) throw invalidName(`${kind} is ${name.length} characters long; the limit is ${maxLength}`)
  return name
}

/**
 * Returns a deep-frozen copy of `value` when it is JSON-compatible and nests at
 * most `maxDepth` levels; throws `ERR_INVALID_VALUE` or `ERR_VALUE_TOO_DEEP`
 * naming the offending path otherwise.
 */
export function toFrozenJson(value: unknown, maxDepth: number, path = 'variable'): Json {
  return copy(value, path, 0, maxDepth, new Set(), true)
}

/**
 * Like {@link toFrozenJson}, but freezes `value` itself instead of a copy: for values
 * nobody else holds (just decoded from the wire or a file), where a copy is waste.
 */
export function freezeJson(value: unknown, maxDepth: number, path = 'variable'): Json {
  return copy(value, path, 0, maxDepth, new Set(), false)
}

function copy(
  value: unknown,
  path: string,
  depth: number,
  maxDepth: number,
  ancestors: Set<object>,
  copying: boolean
): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isFinite(value)) throw invalidValue(`${path} is ${value}, which JSON cannot carry`)
      return value
    case 'object':
      break
    default:
      throw invalidValue(`${path} is ${describe(value)}, which JSON cannot carry`)
  }
  if (value === null) return null
  if (depth >= maxDepth) {
    throw new SharedMemError(ErrorCode.VALUE_TOO_DEEP, `${path} nests deeper than ${maxDepth} levels`)
  }
  if (ancestors.has(value)) throw invalidValue(`${path} refers back to itself (a cycle)`)
  ancestors.add(value)
  let out: Json
  if (Array.isArray(value)) {
    const arr: Json[] = copying ? new Array(value.length) : value
    for (let i = 0; i < value.length; i++)
      arr[i] = copy(value[i], `${path}[${i}]`, depth + 1, maxDepth, ancestors, copying)
    out = arr
  } else {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      throw invalidValue(`${path} is ${describe(value)}; only plain objects, arrays and primitives are allowed`)
    }
    const obj = (copying ? {} : value) as Record<string, Json>
    for (const key of Object.keys(value)) {
      if (key === '__proto__') throw invalidValue(`${path} has a "__proto__" key, which is not allowed`)
      const child = copy(
        (value as Record<string, unknown>)[key],
        `${path}.${key}`,
        depth + 1,
        maxDepth,
        ancestors,
        copying
      )
      if (copying || obj[key] !== child) obj[key] = child
    }
    out = obj
  }
  ancestors.delete(value)
  return Object.freeze(out)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name
    return name && name !== 'Object' ? `a ${name}` : 'an object'
  }
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`
}
