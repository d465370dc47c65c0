/**
 * The value grammar's checker, on JS values: what enters the replica from the
 * local API (a value saved) or a JS caller. One walk checks a value against the
 * rules and either writes it to a MessagePack writer as it goes (so a value saved
 * is checked and encoded in one pass, and nobody can change it afterwards by
 * mutating their object) or measures it (sizes.ts) and freezes it in place. The
 * same rules hold bytes received (reader.ts `Reader.value`).
 */
import { ErrorCode, invalidValue, SharedMemError } from '../errors.js'
import { type Json, UNLIMITED, type ValueLimits } from './json.js'
import { checkEncodedSize, headerSize, numberSize, stringSize } from './sizes.js'

/** A checked, frozen value and its {@link encodedSize}. */
export interface Measured {
  value: Json
  size: number
}

/** Where {@link writeJson} writes a value as it checks it: a MessagePack writer (writer.ts). */
export interface JsonSink {
  str(s: string): void
  number(n: number): void
  bool(b: boolean): void
  nil(): void
  arrayHeader(n: number): void
  mapHeader(n: number): void
}

/**
 * Writes `value` to `sink` when it is JSON-compatible and nests at most `maxDepth` levels;
 * throws `ERR_INVALID_VALUE` or `ERR_VALUE_TOO_DEEP` (naming the offending path) otherwise,
 * having written part of it. `value` itself is neither copied nor frozen. The caller checks
 * the size of what was written (sizes.ts `checkEncodedSize`).
 */
export function writeJson(value: unknown, limits: ValueLimits, sink: JsonSink): void {
  walk(value, limits, sink)
}

/**
 * Checks `value` as {@link writeJson} does and freezes it in place: for values nobody
 * else holds (just decoded from the wire or a file).
 */
export function freezeJson(value: unknown, limits: ValueLimits): Measured {
  return walk(value, limits, undefined)
}

/**
 * The MessagePack size of a value already checked (a stored one): the same walk
 * as on the way in, so batching and the limit measure alike.
 */
export function encodedSize(value: Json): number {
  return walk(value, UNLIMITED, undefined).size
}

/** Writes a value already checked (a stored one) to `sink`: the same walk, so the same bytes. */
export function writeValue(value: Json, sink: JsonSink): void {
  walk(value, UNLIMITED, sink)
}

/**
 * One pass over a value: checks it, and either writes it to `sink` (which then measures
 * it: strings are not measured twice) or measures it and freezes it in place.
 */
function walk(value: unknown, limits: ValueLimits, sink: JsonSink | undefined): Measured {
  try {
    const size = visit(value, 0, limits, sink)
    // With a sink, strings were not measured: the caller checks what was written.
    if (sink === undefined) checkEncodedSize(size, limits)
    return { value: value as Json, size }
  } catch (err) {
    if (!(err instanceof Refusal)) throw err
    let at = 'variable'
    for (let i = err.path.length - 1; i >= 0; i--) {
      const part = err.path[i]
      at += typeof part === 'number' ? `[${part}]` : `.${part}`
    }
    if (err.culprit !== undefined && err.cycle) throw invalidValue(`${at} refers back to itself (a cycle)`)
    throw err.make(at)
  }
}

/**
 * A value refused somewhere inside: the error is made once the walk has unwound, with the
 * path it collected on the way out (innermost key first). A value too deep names the object
 * found at the limit (`culprit`): when one of its ancestors is that very object, it is a cycle.
 * So a valid value costs no path, no stack of ancestors and no closure.
 */
class Refusal {
  readonly make: (at: string) => Error
  readonly culprit: object | undefined
  readonly path: Array<string | number> = []
  cycle = false

  constructor(make: (at: string) => Error, culprit?: object) {
    this.make = make
    this.culprit = culprit
  }

  /** Adds the key under which the refused value lies in `parent`; returns itself, to throw on. */
  under(key: string | number, parent: object): Refusal {
    this.path.push(key)
    if (parent === this.culprit) this.cycle = true
    return this
  }
}

const LONE_SURROGATE = 'an unpaired UTF-16 surrogate, which UTF-8 (the wire and the disk) cannot carry'

/** Checks `v` (at nesting `depth`), writes it to `sink` or freezes it; returns its size as measured here. */
function visit(v: unknown, depth: number, limits: ValueLimits, sink: JsonSink | undefined): number {
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw new Refusal((at) => invalidValue(`${at} holds ${LONE_SURROGATE}`))
      if (sink === undefined) return stringSize(v)
      sink.str(v)
      return 0
    case 'boolean':
      sink?.bool(v)
      return 1
    case 'number':
      if (!Number.isFinite(v)) throw new Refusal((at) => invalidValue(`${at} is ${v}, which JSON cannot carry`))
      sink?.number(v)
      return numberSize(v)
    case 'object':
      break
    default:
      throw new Refusal((at) => invalidValue(`${at} is ${describe(v)}, which JSON cannot carry`))
  }
  if (v === null) {
    sink?.nil()
    return 1
  }
  if (depth >= limits.maxDepth) {
    throw new Refusal(
      (at) => new SharedMemError(ErrorCode.VALUE_TOO_DEEP, `${at} nests deeper than ${limits.maxDepth} levels`),
      v
    )
  }
  let size: number
  if (Array.isArray(v)) {
    size = headerSize(v.length)
    sink?.arrayHeader(v.length)
    for (let i = 0; i < v.length; i++) {
      try {
        size += visit(v[i], depth + 1, limits, sink)
      } catch (err) {
        throw err instanceof Refusal ? err.under(i, v) : err
      }
    }
  } else {
    const proto = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) {
      throw new Refusal((at) =>
        invalidValue(`${at} is ${describe(v)}; only plain objects, arrays and primitives are allowed`)
      )
    }
    const keys = Object.keys(v)
    size = headerSize(keys.length)
    sink?.mapHeader(keys.length)
    for (const key of keys) {
      try {
        if (key === '__proto__')
          throw new Refusal((at) => invalidValue(`${at} is a "__proto__" key, which is not allowed`))
        if (!key.isWellFormed()) throw new Refusal((at) => invalidValue(`${at} has a key that holds ${LONE_SURROGATE}`))
        if (sink === undefined) size += stringSize(key)
        else sink.str(key)
        size += visit((v as Record<string, unknown>)[key], depth + 1, limits, sink)
      } catch (err) {
        throw err instanceof Refusal ? err.under(key, v) : err
      }
    }
  }
  if (sink === undefined) Object.freeze(v)
  return size
}

/** A value's kind, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const name = Object.getPrototypeOf(value)?.constructor?.name
    return name && name !== 'Object' ? `a ${name}` : 'an object'
  }
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`
}
