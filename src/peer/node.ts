/**
 * Builds the libp2p node: TCP, noise, yamux, identify and gossipsub. The libp2p and gossipsub configuration
 * lives here and only here, so a move to libp2p 3 touches one file.
 */
import '../polyfill.js'
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey, PubSub } from '@libp2p/interface'
import { preSharedKey } from '@libp2p/pnet'
import { type TCPSocketOptions, tcp } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { GOSSIP_IDONTWANT_MIN_BYTES } from '../constants.js'
import { type DirectRecipients, forwardingGossipsub, messageId } from './gossipsub.js'
import type { InboundHandshakes } from './handshakes.js'
import { halfWindowYamux } from './yamux.js'

export interface NodeInit {
  privateKey: PrivateKey
  listen: Multiaddr[]
  /** Largest gossip message accepted, in bytes. */
  maxMessageBytes: number
  /** Bytes queued for one slow receiver before gossip to it is dropped (and left to sync). */
  maxOutboundBuffer: number
  /** Whether a peer may be connected to (checked on dial and on every new connection). @default all */
  allowPeer?: (peerId: string) => boolean
  /** Private swarm key (libp2p pnet format): only peers holding it can connect. */
  swarmKey?: Uint8Array
  /** Sign every gossip message and accept only signed ones (gossipsub StrictSign). */
  signMessages: boolean
  /** Told of each inbound connection's handshake, so that a failed one is said. */
  handshakes?: InboundHandshakes
  /** Who a gossip message's publisher sent it to: a forward leaves them out (gossipsub.ts). @default nobody known */
  directRecipients?: DirectRecipients
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
    transports: [
      // In a node:cluster worker, listen(0) would share the primary's one port among all workers,
      // and a dial meant for one worker would reach any of them. @libp2p/tcp passes listenOpts on
      // to net's listen() (its type lists only socket options); test/cluster proves it still does.
      tcp({ listenOpts: { exclusive: true } as TCPSocketOptions })
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [halfWindowYamux()],
    // A ping slower than the monitor's timeout is what a busy peer under a publish
    // backlog looks like; aborting then would drop the queued writes silently.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    ...(init.swarmKey === undefined ? {} : { connectionProtector: preSharedKey({ psk: init.swarmKey }) }),
    connectionGater: {
      denyDialPeer: deny,
      denyInboundConnection: async (maConn) => {
        init.handshakes?.started(maConn)
        return false
      },
      denyInboundEncryptedConnection: async (peerId, maConn) => {
        init.handshakes?.encrypted(maConn)
        return deny(peerId)
      },
      denyOutboundEncryptedConnection: deny
    },
    services: {
      identify: identify(),
      pubsub: forwardingGossipsub(
        {
          // Unsigned by default: peers are authenticated by noise (and the swarm key) at
          // the connection level; see docs/security.md for when to sign.
          globalSignaturePolicy: init.signMessages ? 'StrictSign' : 'StrictNoSign',
          ...(init.signMessages ? {} : { msgIdFn: messageId }),
          // A swarm of one (or a write before the mesh forms) is normal, not an error.
          allowPublishToZeroTopicPeers: true,
          // A published message is encoded once for all its peers, not once a peer: at 8 peers the
          // writer made 7 copies of each batch (docs/benchmarks.md). Control messages that would have
          // ridden along with a publish go out with the next heartbeat instead.
          batchPublish: true,
          emitSelf: false,
          fallbackToFloodsub: false,
          maxInboundDataLength: init.maxMessageBytes + RPC_OVERHEAD,
          // Unbounded by default: a receiver that falls behind would grow our memory without limit.
          maxOutboundBufferSize: init.maxOutboundBuffer,
          idontwantMinDataSize: GOSSIP_IDONTWANT_MIN_BYTES,
          // No penalty for peers that share an IP address: the workers of one host all do. With
          // gossipsub's default (-5 per peer past 10, squared) every peer of a host running 16
          // fell below the graylist threshold, and every gossip RPC among them was ignored.
          scoreParams: { IPColocationFactorWeight: 0 }
        },
        init.directRecipients
      )
    }
  }) as Promise<SharedMemNode>
}
