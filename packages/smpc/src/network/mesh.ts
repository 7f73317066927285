/**
 * Connecting one party to the others and to the dealer (internal). Party i listens on its own entry of
 * `peers` and dials every higher party and the dealer (lower dials higher: every pair has exactly one
 * connection and no two parties wait for each other). Each link is mutually authenticated TLS 1.3 with the
 * peer's certificate pinned by fingerprint, then the agreement handshake (`handshake.ts`). Everything must be
 * up within `timeoutMs`; on any failure every socket and the listener are closed and the error names the party.
 * @module
 */
import * as tls from 'node:tls';
import { ProtocolAbortError } from '../errors.ts';
import type { TlsLink } from '../transport/tls.ts';
import { agree, dial, exchangeHello, presented, sayAbort, tlsOptions, type Hello, type TlsCredentials } from './handshake.ts';

/** Where a party (or the dealer) listens and which certificate it presents. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  /** Normalized SHA-256 fingerprint (`AB:CD:...`). */
  readonly fingerprint: string;
}

/** The fields two parties must agree on, in the order they are compared. */
export const AGREED_FIELDS = [
  'version',
  'sessionId',
  'protocol',
  'preprocessing',
  'security',
  'statisticalSecurity',
  'parties',
  'fractionalBits',
  'maxAbs',
  'programId',
] as const;
/** The fields a party and the dealer must agree on. */
export const DEALER_FIELDS = ['version', 'protocol', 'parties'] as const;
/** Version of the wire protocol (frames and handshake). */
export const WIRE_VERSION = 1;

/**
 * Links to every other party and to the dealer (index `peers.length`), in peer order; `null` at this party,
 * and at the dealer's index when `dealer` is null (dealer-free replicated sharing).
 * @example
 * ```ts
 * const links = await connectMesh({ party: 1, peers, dealer, credentials, hello, digest, timeoutMs: 60_000 });
 * ```
 */
export async function connectMesh(o: {
  readonly party: number;
  readonly peers: readonly PeerAddress[];
  readonly dealer: PeerAddress | null;
  readonly credentials: TlsCredentials;
  readonly hello: Hello;
  readonly digest: Uint8Array;
  readonly timeoutMs: number;
}): Promise<(TlsLink | null)[]> {
  const me = o.party;
  const n = o.peers.length;
  const deadline = Date.now() + o.timeoutMs;
  const sockets = new Set<tls.TLSSocket>();
  const track = (s: tls.TLSSocket): void => {
    sockets.add(s);
  };
  let failed = false;
  const refused: string[] = [];
  const links: (TlsLink | null)[] = new Array<TlsLink | null>(n + 1).fill(null);
  const arrived = new Map<number, (s: tls.TLSSocket) => void>();
  const incoming: Promise<tls.TLSSocket>[] = [];
  for (let j = 0; j < me; j++) incoming.push(new Promise((resolve) => arrived.set(j, resolve)));

  const server = tls.createServer({ ...tlsOptions(o.credentials), requestCert: true, rejectUnauthorized: false });
  server.on('tlsClientError', () => {
    // A client that is not a party (or speaks no TLS) is refused; the parties keep waiting for their peers.
  });
  server.on('secureConnection', (s: tls.TLSSocket) => {
    track(s);
    s.pause();
    const fp = presented(s);
    for (let j = 0; j < me; j++) {
      const resolve = arrived.get(j);
      if (resolve !== undefined && o.peers[j].fingerprint === fp) {
        arrived.delete(j);
        resolve(s);
        return;
      }
    }
    // Refused before any protocol byte: not a lower party of this session, or one already connected.
    refused.push(fp);
    s.destroy();
  });
  const mine = o.peers[me];
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new ProtocolAbortError(`party ${me} could not listen on ${mine.host}:${mine.port}: ${e.message}`, { party: me, cause: e })),
    );
    server.listen(mine.port, mine.host, () => resolve());
  });

  // Sockets past the TLS handshake (pinned certificate checked), and whether this side sent its HELLO on them.
  const authenticated = new Map<tls.TLSSocket, boolean>();
  let failure: ProtocolAbortError | null = null;
  const cleanup = async (e: ProtocolAbortError): Promise<void> => {
    failed = true;
    failure = e;
    server.close();
    // Tell every authenticated peer why this party stops (after a HELLO, so that a peer that has not compared
    // parameters with this side yet still names the field that differs), then give the links still in their
    // TLS handshake a moment to finish and be told too, before cutting what is left.
    for (const [s, helloSent] of authenticated) sayAbort(s, o.hello, o.digest, helloSent, e);
    await new Promise((r) => setTimeout(r, 300));
    for (const s of sockets) if (!authenticated.has(s)) s.destroy();
    setTimeout(() => {
      for (const s of sockets) s.destroy();
    }, 2000).unref();
  };
  const check = (theirs: Record<string, unknown>, peer: number): void => {
    const who = peer === n ? 'the dealer' : `party ${peer}`;
    const blame = peer === n ? -1 : peer;
    if (peer === n) {
      if (theirs.role !== 'dealer')
        throw new ProtocolAbortError(`the dealer's address answered as ${JSON.stringify(theirs.role)}, not as a dealer`, { party: -1 });
      agree(theirs, o.hello, DEALER_FIELDS, who, blame);
      return;
    }
    if (theirs.role !== 'party' || theirs.party !== peer) {
      throw new ProtocolAbortError(
        `party ${peer}'s certificate was used by a peer that says it is ${JSON.stringify(theirs.role)} ${JSON.stringify(theirs.party)}`,
        {
          party: peer,
        },
      );
    }
    agree(theirs, o.hello, AGREED_FIELDS, who, blame);
  };
  const establish = async (peer: number, socket: Promise<tls.TLSSocket>): Promise<void> => {
    const s = await socket;
    if (failure !== null) {
      sayAbort(s, o.hello, o.digest, false, failure);
      throw failure;
    }
    authenticated.set(s, true);
    const who = peer === n ? 'the dealer' : `party ${peer}`;
    const { hello, rest } = await exchangeHello(s, o.hello, o.digest, who, peer === n ? -1 : peer);
    check(hello, peer);
    // Until the transport takes the socket over, a reset of this link fails the connect at once, naming this
    // peer (not, after timeoutMs, a party that is merely late).
    const onError = (e: Error): void =>
      lose(
        new ProtocolAbortError(`the connection to ${who} failed while the other links were set up: ${e.message}`, {
          party: peer === n ? -1 : peer,
          cause: e,
        }),
      );
    s.on('error', onError);
    unwatch.push(() => s.off('error', onError));
    links[peer] = { socket: s, rest, lanes: new Set([peer === n ? 'pre' : '']) };
  };
  const unwatch: (() => void)[] = [];
  let lose: (e: ProtocolAbortError) => void = () => {};
  const lost = new Promise<never>((_, reject) => (lose = reject));
  lost.catch(() => {});
  const jobs: Promise<void>[] = [];
  for (let j = 0; j < me; j++) jobs.push(establish(j, incoming[j] as Promise<tls.TLSSocket>));
  const dialOne = (peer: number, a: PeerAddress): Promise<tls.TLSSocket> =>
    dial({
      host: a.host,
      port: a.port,
      fingerprint: a.fingerprint,
      who: peer === n ? 'the dealer' : `party ${peer}`,
      party: peer === n ? -1 : peer,
      credentials: o.credentials,
      deadline,
      cancelled: () => failed,
      track,
    });
  for (let j = me + 1; j < n; j++) jobs.push(establish(j, dialOne(j, o.peers[j])));
  if (o.dealer !== null) jobs.push(establish(n, dialOne(n, o.dealer)));

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const missing = [...arrived.keys()];
      const first = missing[0];
      const detail =
        refused.length > 0 && first !== undefined
          ? `; refused connections presenting ${[...new Set(refused)].join(', ')} (this party pins ${o.peers[first].fingerprint} for party ${first})`
          : '';
      reject(
        new ProtocolAbortError(
          missing.length > 0
            ? `party ${missing.join(', party ')} did not connect within ${o.timeoutMs} ms${detail}`
            : `the links to the other parties were not up within ${o.timeoutMs} ms`,
          { party: missing.length === 1 ? (first as number) : -1 },
        ),
      );
    }, o.timeoutMs);
  });
  try {
    await Promise.race([Promise.all(jobs), timeout, lost]);
  } catch (e) {
    // Every other job fails once its sockets close: keep those rejections from going unhandled.
    for (const j of jobs) j.catch(() => {});
    const err =
      e instanceof ProtocolAbortError ? e : new ProtocolAbortError(`party ${me} could not connect: ${(e as Error).message}`, { cause: e });
    await cleanup(err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // The links are handed over: their transport listens from here on. (After a failure the listeners stay, for
  // the sockets still closing.)
  for (const u of unwatch) u();
  server.close();
  return links;
}
