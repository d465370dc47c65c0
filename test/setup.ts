// libp2p's dependencies need Promise.withResolvers (Node 22+); the library loads
// this itself, and tests that import libp2p pieces directly need it first too.
import '../src/polyfill.js'

// Same-host discovery would join every test's peers of the default swarm into one: tests wire their
// own topologies, and the tests of discovery give each run a directory of its own.
process.env.SHAREDMEM_RENDEZVOUS = 'off'
