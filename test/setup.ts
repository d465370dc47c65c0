// libp2p's dependencies need Promise.withResolvers (Node 22+); the library loads
// this itself, and tests that import libp2p pieces directly need it first too.
import '../src/polyfill.js'
