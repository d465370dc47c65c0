/**
 * Named defaults. Every limit on untrusted input is also an option; the value
 * here is what a peer uses when the option is not given.
 */

/** Largest encoded (MessagePack) value, in bytes: memcached's classic item limit, ample for "small, hot data". */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024

/** Deepest nesting of arrays/objects in a value; far beyond real documents, low enough to keep recursion safe. */
export const DEFAULT_MAX_VALUE_DEPTH = 64

/** Longest collection, key or counter name, in UTF-16 code units; keys are identifiers, not payloads. */
export const DEFAULT_MAX_KEY_LENGTH = 1024

/**
 * How far in the future (ms) a remote timestamp may be before it is rejected.
 * Well-run hosts agree within milliseconds (NTP); a minute tolerates a bad host
 * without letting one wrong clock make its writes win for hours.
 */
export const DEFAULT_MAX_CLOCK_SKEW = 60_000

/**
 * How often a peer measures each swarm peer's wall clock, in ms (one small exchange each).
 * Clocks drift by seconds a day, far inside `maxClockSkew`; what this catches is a clock set
 * wrong, which a peer also checks as soon as it connects.
 */
export const DEFAULT_CLOCK_PROBE_INTERVAL = 15_000

/**
 * How long `createPeer` given bootstrap peers waits, at most, for its clock to be measured against
 * one of them before it resolves, in ms: a peer on a wrong clock then refuses writes from the first
 * one on, instead of acknowledging writes that the swarm refuses. A bootstrap peer on the same
 * network answers within milliseconds; an unreachable one costs this much once.
 */
export const DEFAULT_START_CLOCK_WAIT = 2_000

/** Entries per gossip message: large enough to amortise per-message cost (docs/benchmarks.md). */
export const DEFAULT_MAX_BATCH_ENTRIES = 2048

/** Soft limit on one gossip message's encoded entries, in bytes; a single larger value still goes alone. */
export const DEFAULT_MAX_BATCH_BYTES = 512 * 1024

/** Largest gossip message a peer accepts, in bytes: one maximal value plus its envelope. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

/** Most entries (and counter states) one received message may carry; must be ≥ what peers send. */
export const DEFAULT_MAX_MESSAGE_ENTRIES = 16_384

/** How long a tombstone (or an expired entry) is kept before it is collected: 24 h. */
export const DEFAULT_TOMBSTONE_TTL = 24 * 60 * 60 * 1000

/** How often the maintenance pass collects old tombstones, in ms. */
export const DEFAULT_COLLECT_INTERVAL = 60_000

/**
 * Running time (a peer's own, so that an outage of the whole swarm does not count) a swarm member
 * may stay silent before the others stop keeping tombstones for it and quarantine it: a day, as
 * the tombstone TTL, so that a member that crashed for good holds dead entries at most that much
 * longer. A member back within it catches up with nothing lost and nothing resurrected.
 */
export const DEFAULT_MEMBER_TIMEOUT = 24 * 60 * 60 * 1000

/** How often bootstrap peers that are not connected are dialled again, in ms. */
export const DEFAULT_REDIAL_INTERVAL = 5_000

/** Time limit for one dial, in ms. */
export const DEFAULT_DIAL_TIMEOUT = 10_000

/**
 * How long a bootstrap address whose dial timed out is given to send the first bytes of a raw
 * connection (src/peer/dial-failure.ts): a peer with a private swarm key sends its nonce at once.
 */
export const HANDSHAKE_PROBE_WAIT = 1_000

/** How often a peer announces its addresses so that peers who share a bootstrap find each other, in ms. */
export const DEFAULT_ANNOUNCE_INTERVAL = 10_000

/**
 * How often a peer re-reads the same-host rendezvous directory, in ms: a re-forked cluster worker
 * is joined within about this long by peers it did not dial itself; a scan is one readdir of a
 * few small files.
 */
export const DEFAULT_RENDEZVOUS_INTERVAL = 2_000

/**
 * The longest a peer that found peers of its swarm on this host (the rendezvous directory) but is
 * connected to none waits before `ready()` resolves without them, in ms: the bound of each of those
 * dials (the dial timeout) plus one scan interval, for dials the first scan queued behind others.
 * A peer with no one to meet is ready as soon as each bootstrap address was dialled once and the
 * first scan found no one; a connected peer, when its first sync round ends.
 */
export const DEFAULT_READY_WAIT = DEFAULT_DIAL_TIMEOUT + DEFAULT_RENDEZVOUS_INTERVAL

/**
 * Remote hosts a peer remembers having warned about for a failed inbound handshake (a wrong swarm
 * key): each is warned about once; past this many the list starts over, so that a scan of the
 * port from many addresses costs a bounded set and, at worst, a warning again.
 */
export const DEFAULT_HANDSHAKE_HOSTS_REMEMBERED = 1024

/** Name of the swarm when none is given: peers only share data with peers of the same swarm name. */
export const DEFAULT_SWARM = 'default'

/** Embedded peers listen on loopback and a free port unless told otherwise: safe by default. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** Port a standalone `sharedmem peer` listens on when given none: the one address others bootstrap through. */
export const DEFAULT_PEER_PORT = 7400

/**
 * P2P port of `sharedmem server` when given no `--listen`: a free one (0), printed at start. A server
 * is reached over HTTP, and the peers of its host find it by rendezvous; a fixed default would
 * collide with `sharedmem peer` (7400) or a second server on the same host. Give `--listen` to fix
 * one that peers on other hosts can bootstrap through.
 */
export const DEFAULT_SERVER_PEER_PORT = 0

/** HTTP port of `sharedmem server` when `-p` is not given (the classic sharedmem port). */
export const DEFAULT_HTTP_PORT = 3000

/**
 * Largest HTTP request body, in bytes: a maximal value (1 MiB encoded) still fits
 * as JSON with escaping, so the peer's own value check answers, with its own code.
 */
export const DEFAULT_HTTP_BODY_LIMIT = 4 * 1024 * 1024

/** Time between periodic sync rounds with a random peer, in ms: repairs dropped gossip within seconds at a cost of ~600 bytes a round when in sync. */
export const DEFAULT_SYNC_INTERVAL = 10_000

/** Time limit of one sync round, in ms: long enough for a million entries on a slow link. */
export const DEFAULT_SYNC_TIMEOUT = 10 * 60_000

/**
 * Longest a round of a peer still catching up waits for the round before it (src/sync/catch-up.ts):
 * a join of a few million entries takes seconds, and two joiners that open rounds with each other
 * at once, each holding its own turn, must not wait on each other for long.
 */
export const CATCH_UP_TURN_WAIT = 30_000

/**
 * Longest an initiator of a peer still catching up waits, once the round it opened before sent its
 * DIGEST, for that round to have the other side's LEAVES before it sends its own (src/sync/catch-up.ts):
 * a live peer answers within milliseconds, or within its own catch-up turn; one that took the
 * stream and never answers (paused, hung) holds each round behind it back no longer than this.
 */
export const CATCH_UP_OPENING_WAIT = 2_000

/**
 * How long a request for a round (`syncNow()`, a new connection) waits for running rounds with
 * the same peer that cannot hold what it asks for (src/sync/service.ts) before it opens its own
 * alongside: a slow round (a late joiner's fill) or a peer's rounds one after another never hold
 * `syncNow()` back for long.
 */
export const SYNC_REQUEST_WAIT = 30_000

/**
 * UPDATES frames a sync sender may have unacknowledged: at most 16 × 512 KiB queued in a
 * receiver, while frames still stream at about 80 MB/s over a 50 ms round trip.
 */
export const DEFAULT_SYNC_WINDOW = 16

/** Members scanned between two turns of the event loop while sync looks for the entries to send. */
export const DEFAULT_SYNC_SCAN_BATCH = 4096

/**
 * Bytes of gossip a peer queues for one slow receiver before it drops messages to
 * it (sync repairs them later): bounds memory when a receiver falls behind.
 */
export const DEFAULT_MAX_OUTBOUND_BUFFER = 64 * 1024 * 1024

/**
 * Most bytes of a too-large HTTP body read and discarded before the 413 is sent, so that the
 * client, still uploading, gets the answer instead of a reset connection. 64 MiB is 16 × the body
 * limit; a larger upload is cut off (and its client may see a reset).
 */
export const DEFAULT_HTTP_DRAIN_BYTES = 64 * 1024 * 1024

/** Time limit for receiving a whole HTTP request, in ms: cuts off slow-loris clients. */
export const DEFAULT_HTTP_REQUEST_TIMEOUT = 30_000

/** Interval of the comments that keep an idle `/watch` stream open through proxies, in ms. */
export const DEFAULT_HTTP_WATCH_KEEP_ALIVE = 15_000

/**
 * Most bytes queued in the process for one `/watch` subscriber before it is dropped as too slow:
 * one event of a maximal value (1 MiB encoded, up to 6 × that as escaped JSON) still fits, while
 * a client that does not read holds at most this much instead of every change to come.
 */
export const DEFAULT_HTTP_WATCH_BUFFER_BYTES = 8 * 1024 * 1024

/**
 * Time a dropped `/watch` subscriber has to read what was queued for it and the last event
 * saying why, in ms; then its connection is destroyed and the queue freed. A client that reads
 * at all drains 8 MiB well within it.
 */
export const DEFAULT_HTTP_WATCH_DRAIN_TIMEOUT = 10_000

/** Group-commit interval of persistence, in ms: a crash loses at most this much, for one fsync per interval. */
export const DEFAULT_FSYNC_INTERVAL = 100

/** Log size past which persistence writes a snapshot and drops the log, in bytes. */
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024

/**
 * Addresses kept (and dialled) per announced peer: loopback, a LAN address, container bridges and
 * IPv6 fit, while one invented peer in an announcement costs at most this many connection attempts.
 */
export const DEFAULT_ANNOUNCED_ADDRS_PER_PEER = 8

/**
 * Announced peers, not connected, remembered until they are dialled: one full announcement. When
 * more arrive, the least recently announced is forgotten; an honest peer is announced again soon.
 */
export const DEFAULT_ANNOUNCED_PEERS_REMEMBERED = 256

/** How long an announced peer is remembered without being announced again, in ms: several announce intervals. */
export const DEFAULT_ANNOUNCED_PEER_TTL = 60_000

/**
 * Announcements processed from one sender per announce interval of this peer: an honest peer sends
 * one per interval plus one each time a peer subscribes, so only several peers joining at once
 * exceed it (the next periodic one lists them all); the rest of a flood is refused after a lookup.
 */
export const DEFAULT_ANNOUNCE_SENDER_BURST = 8

/** Senders whose announcement rate is tracked; the least recent is forgotten (a bounded map, not a ledger of every id). */
export const DEFAULT_ANNOUNCE_SENDERS_TRACKED = 1024

/**
 * Gossip messages from this size on are answered with IDONTWANT to mesh peers (gossipsub v1.2;
 * gossipsub's own default is 512 bytes). Below it, an IDONTWANT costs a frame to every mesh peer
 * for every message, while the forwards it would spare are left out anyway wherever the
 * publisher reached the peer itself (src/peer/neighbours.ts). From here on, a duplicate's bytes
 * cost more than the frames (docs/benchmarks.md, "Frames per gossip message").
 */
export const GOSSIP_IDONTWANT_MIN_BYTES = 64 * 1024

/**
 * Message ids sent to one peer by IHAVE per heartbeat for the forwards left out because the
 * publisher reached that peer itself (src/peer/gossipsub.ts); past it, only sync repairs a copy
 * lost on the way. About 34 KB: the RPC stays well within the smallest message limit's headroom.
 */
export const GOSSIP_IHAVE_MAX_IDS = 1000

/**
 * Announce intervals an announcement says who its sender is connected to, for forwarding
 * (src/peer/neighbours.ts): one missed announcement is not yet a lost connection.
 */
export const NEIGHBOURS_FRESH_INTERVALS = 3

/**
 * Dials of announced peers at once: a whole burst, since a handshake can take seconds on a busy
 * host and a joining peer should not wait for each; few enough that unreachable addresses cannot
 * hold many sockets (each dial tries its addresses one after the other).
 */
export const DEFAULT_ANNOUNCED_DIALS_IN_FLIGHT = 8

/** Dials of announced peers allowed in a burst (then one per `DEFAULT_ANNOUNCED_DIAL_INTERVAL`). */
export const DEFAULT_ANNOUNCED_DIAL_BURST = 8

/**
 * Time between dials of announced peers once the burst is spent, in ms: a joining peer reaches a
 * hundred peers within a minute (they also dial it on its own announcement), while announcements
 * make this peer open at most 2 × 8 connection attempts a second.
 */
export const DEFAULT_ANNOUNCED_DIAL_INTERVAL = 500

/** Wait before an announced peer whose dial failed is dialled again, in ms; doubled on each failure in a row. */
export const DEFAULT_ANNOUNCED_DIAL_BACKOFF = 5_000

/** Longest wait before an announced peer that keeps failing is dialled again, in ms; it may dial us sooner. */
export const DEFAULT_ANNOUNCED_DIAL_BACKOFF_MAX = 60_000

/** Peers whose failed dials are remembered for the backoff; the least recent is forgotten. */
export const DEFAULT_DIAL_FAILURES_REMEMBERED = 1024

/** Keys in a page of `keys()` when the caller names no limit: a page a client reads in one small response. */
export const DEFAULT_KEYS_PAGE = 100

/**
 * Most keys a page of `keys()` may ask for: a page is read in one turn of the event loop (and
 * its values, when asked for, sent in one response), so a page is kept small.
 */
export const MAX_KEYS_PAGE = 1000
