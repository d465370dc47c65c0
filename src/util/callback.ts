import type { Callback } from '../contract.js'

/**
 * Runs `fn` as a promise (a synchronous throw becomes a rejection) and, when a
 * Node-style callback is given, also calls it — outside the promise chain, so a
 * throwing callback is not swallowed, and with the returned promise marked as
 * handled, so callback users see no unhandled rejections.
 */
export function settle<T>(fn: () => T | Promise<T>, callback: Callback<T> | undefined): Promise<T> {
  let promise: Promise<T>
  // As `new Promise((resolve) => resolve(fn()))`, without an executor and two resolving functions per call.
  try {
    promise = Promise.resolve(fn())
  } catch (err) {
    promise = Promise.reject(err)
  }
  if (typeof callback === 'function') {
    promise.then(
      (result) => process.nextTick(callback, null, result),
      (err: Error) => process.nextTick(callback, err)
    )
  }
  return promise
}
