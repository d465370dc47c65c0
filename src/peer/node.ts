/**
 * Builds the libp2p node: TCP, noise, yamux, identify and gossipsub. The libp2p and gossipsub configuration
 * lives here and only here, so a move to libp2p 3 touches one file.
 */
import '../polyfill.js'
import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey, PubSub } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

export interface NodeInit {
  privateKey: PrivateKey
  listen: Multiaddr[]
  /** Largest gossip message accepted, in bytes. */
  maxMessageBytes: number
  /** Bytes queued for one slow receiver before gossip to it is dropped (and left to sync). */
  maxOutboundBuffer: number
  /** Whether a peer may be connected to (checked on dial and on every new connection). @default all */
  allowPeer?: (peerId: string) => boolean
}

export type SharedMemNode = Libp2p<{ identify: unknown; pubsub: PubSub }>

/** Envelope overhead gossipsub adds around our data (protobuf RPC framing). */
const RPC_OVERHEAD = 64 * 1024

export async function createNode(init: NodeInit): Promise<SharedMemNode> {
  const allow = init.allowPeer ?? (() => true)
  const deny = async (peerId: PeerId): Promise<boolean> => !allow(peerId.toString())
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen.map(String) },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // A ping slower than the monitor's timeout is what a busy peer under a publish
    // backlog looks like; aborting then would drop the queued writes silently.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionGater: {
      denyDialPeer: deny,
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // Signing each message caps throughput near 2–3k messages/s here; peers are
        // authenticated by noise at the connection level (see docs/security.md).
        globalSignaturePolicy: 'StrictNoSign',
        // A swarm of one (or a write before the mesh forms) is normal, not an error.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        fallbackToFloodsub: false,
        maxInboundDataLength: init.maxMessageBytes + RPC_OVERHEAD,
        // Unbounded by default: a receiver that falls behind would grow our memory without limit.
        maxOutboundBufferSize: init.maxOutboundBuffer
      })
    }
  }) as Promise<SharedMemNode>
}
