/**
 * Maps any error thrown while serving a request to an HTTP status and the
 * `{ error: { code, message } }` body. SharedMemErrors keep their code; the
 * HTTP framework's own errors get the closest stable code.
 */
import { ErrorCode, HTTP_STATUS, SharedMemError } from '../errors.js'

export interface HttpError {
  status: number
  code: ErrorCode
  message: string
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof SharedMemError)
    return { status: HTTP_STATUS[err.code] ?? 500, code: err.code, message: err.message }
  const e = err as { code?: string; statusCode?: number; message?: string }
  const message = e.message ?? 'request failed'
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: ErrorCode.BODY_TOO_LARGE, message }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: ErrorCode.INVALID_JSON, message }
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: ErrorCode.INVALID_ARGUMENT, message }
  }
  return { status: 500, code: ErrorCode.INTERNAL, message: 'internal error' }
}
