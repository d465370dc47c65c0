/**
 * The public contract of sharedmem: the verbs, their config objects, a peer's
 * options, status and events, the HTTP server's and client's. Types only, and
 * every public type is declared here (in the files of contract/), never in an
 * implementation file: every module may depend on it, and it depends on no
 * module of the implementation. `index.ts` hands these names on.
 */
export type * from './contract/events.js'
export type * from './contract/http.js'
export type * from './contract/peer.js'
export type * from './contract/status.js'
export type * from './contract/verbs.js'
