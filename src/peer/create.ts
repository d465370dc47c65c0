/**
 * createPeer: checks the options, takes the data directory's lock, builds the libp2p node from the
 * options and starts a {@link Peer} on it; a start that fails releases what it took.
 */
import '../polyfill.js'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import * as defaults from '../constants.js'
import type { PeerOptions, SharedMemPeer } from '../contract.js'
import { invalidArgument } from '../errors.js'
import { type DataDirLock, lockDataDir } from '../persist/lock.js'
import { parseBootstrapAddress, parseListenAddress } from './addresses.js'
import { InboundHandshakes } from './handshakes.js'
import { loadOrCreateIdentity } from './identity.js'
import { listenError } from './listen-error.js'
import { Neighbours } from './neighbours.js'
import { createNode } from './node.js'
import { checkOptionNames, checkOptionValues } from './options.js'
import { Peer } from './peer.js'
import { parseSwarmKey } from './swarm-key.js'

/** Starts a peer: listens, joins the swarm through `bootstrap`, and resolves once it can serve. */
export async function createPeer(options: PeerOptions = {}): Promise<SharedMemPeer> {
  checkOptionNames(options)
  checkOptionValues(options)
  if (options.durableWrites === true && options.dataDir === undefined) {
    throw invalidArgument('durableWrites needs a dataDir: without one, no write can be made durable')
  }
  // Before the identity is read or a port taken: a second process on this directory stops here.
  const lock = options.dataDir === undefined ? undefined : await lockDataDir(options.dataDir)
  try {
    return await startPeer(options, lock)
  } catch (err) {
    await lock?.release()
    throw err
  }
}

async function startPeer(options: PeerOptions, lock: DataDirLock | undefined): Promise<SharedMemPeer> {
  const listen = (options.listen ?? defaults.DEFAULT_LISTEN).map(parseListenAddress)
  const bootstrap = (options.bootstrap ?? []).map(parseBootstrapAddress)
  const swarmKey = options.swarmKey === undefined ? undefined : parseSwarmKey(options.swarmKey)
  const allowed = options.allowPeers === undefined ? undefined : new Set(options.allowPeers)
  const identity =
    options.identity ?? (options.dataDir === undefined ? undefined : join(options.dataDir, 'identity.key'))
  const privateKey =
    options.privateKey ??
    (identity !== undefined ? await loadOrCreateIdentity(identity) : await generateKeyPair('Ed25519'))
  const swarm = options.swarm ?? defaults.DEFAULT_SWARM
  const handshakes = new InboundHandshakes(defaults.DEFAULT_HANDSHAKE_HOSTS_REMEMBERED)
  const neighbours = new Neighbours({
    maxAge: defaults.NEIGHBOURS_FRESH_INTERVALS * (options.announceInterval ?? defaults.DEFAULT_ANNOUNCE_INTERVAL),
    maxAnnouncers: defaults.DEFAULT_ANNOUNCE_SENDERS_TRACKED
  })
  const node = await createNode({
    privateKey,
    listen,
    maxMessageBytes: options.maxMessageBytes ?? defaults.DEFAULT_MAX_MESSAGE_BYTES,
    maxOutboundBuffer: options.maxOutboundBuffer ?? defaults.DEFAULT_MAX_OUTBOUND_BUFFER,
    allowPeer: (id) => (allowed === undefined || allowed.has(id)) && options.faults?.blocked.has(id) !== true,
    swarmKey,
    signMessages: options.signMessages ?? false,
    handshakes,
    directRecipients: (data) => neighbours.direct(data)
  }).catch((err: unknown) => {
    // The node listens as it is created.
    throw listenError(err)
  })
  const peer = new Peer(node, swarm, bootstrap, options, { lock, handshakes, neighbours })
  try {
    await peer.start()
  } catch (err) {
    await peer.stop().catch(() => {})
    throw err
  }
  return peer
}
