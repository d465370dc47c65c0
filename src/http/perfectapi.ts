/**
 * Compatibility with the perfectapi client of sharedmem's ancestor
 * (`require('perfectapi').proxy(url, cb)`, npm perfectapi 0.0.x), so that its
 * users' code runs unchanged against `sharedmem server -p 3000`.
 *
 * That client first reads `GET <url>/config`, a perfectapi "config" whose
 * `signature` lists the commands, then sends each call as a request to
 * `<url>/<name>` with the config object as its JSON body, and hands the whole
 * response body to the callback as `result` (and `body.err` as `err`). It
 * identifies itself with `User-Agent: PerfectAPI`; requests that carry it get
 * that raw shape, every other client keeps `{"result": …}` (docs/http.md).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VERB_ENTRIES } from './verbs.js'

/**
 * The perfectapi config of this API. Every command is a POST: the client then
 * sends the config object as a JSON body, so values keep their JSON types
 * (a GET would put them in a query string, as strings).
 */
export function perfectApiConfig(): object {
  return {
    exports: 'sharedmem',
    path: 'sharedmem',
    signature: VERB_ENTRIES.map(([name, spec]) => ({
      name,
      synopsis: spec.synopsis,
      description: spec.synopsis,
      verb: 'POST',
      parameters: spec.parameters.map((parameter) => ({ name: parameter, required: true })),
      options: (spec.options ?? []).map((option) => ({ option, long: option })),
      returns: []
    }))
  }
}

/** Whether a request comes from the perfectapi client (it sends `User-Agent: PerfectAPI`). */
export function isPerfectApiClient(req: FastifyRequest): boolean {
  return /^perfectapi\b/i.test(req.headers['user-agent'] ?? '')
}

/** Sends a result the way the perfectapi client reads it: the bare value as JSON (`null` included). */
export function sendPerfectApiResult(reply: FastifyReply, result: unknown): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(result ?? null))
}

/** The body of an error for the perfectapi client: it passes `body.err` to the callback as `err`. */
export function perfectApiError(code: string, message: string): { err: string; code: string } {
  return { err: message, code }
}
