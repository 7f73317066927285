/**
 * The dealer as its own process (or its own server in any process): {@link startDealer} listens for the
 * parties of one or more sessions, authenticates each by its pinned certificate, and serves each session's
 * party 0 once all of that session's parties are connected. It sees requests and sends correlated randomness;
 * it never receives an input or a share.
 * @module
 */
import * as tls from 'node:tls';
import { assertInteger, assertOptions, describeValue } from '@ppml/core';
import { ProtocolAbortError } from '../errors.ts';
import { checkIdentity, normalizeFingerprint, type Identity } from '../identity.ts';
import { allKeys } from '../option-keys.ts';
import { runDealer } from '../runtime/dealer-runtime.ts';
import { ABORT, MAX_FRAME, frameHeader, sessionDigest } from '../transport/frames.ts';
import { TlsTransport, type TlsLink } from '../transport/tls.ts';
import { agree, exchangeHello, presented, tlsOptions } from './handshake.ts';
import { DEALER_FIELDS, WIRE_VERSION } from './mesh.ts';

/** Options of {@link startDealer}. */
export interface DealerOptions {
  /** Address to listen on. Default '127.0.0.1'; '0.0.0.0' for every interface. */
  readonly host?: string;
  /** Port to listen on; 0 (the default) lets the system choose (see the returned `port`). */
  readonly port?: number;
  /** The dealer's key and certificate (from `generateIdentity`); the parties pin its fingerprint. */
  readonly identity: Identity;
  /** The protocol the parties run. */
  readonly protocol: 'additive' | 'replicated';
  /** The parties' certificate fingerprints, in party order. */
  readonly parties: readonly { readonly fingerprint: string }[];
}

/** A running dealer. */
export interface DealerHandle {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and ends every session it serves (their parties abort). Idempotent. */
  close(): Promise<void>;
}

const DEALER_KEYS = allKeys<DealerOptions>()('host', 'port', 'identity', 'protocol', 'parties');

interface Group {
  readonly links: (TlsLink | null)[];
  /** Per party waiting for the others: stops watching its socket and returns what it sent meanwhile. */
  readonly detach: ((() => Buffer) | null)[];
  transport: TlsTransport | null;
  /** The parties' timeoutMs (from their HELLOs): the dealer's keepalives must come well within the shortest. */
  timeoutMs: number;
}

/**
 * Starts a dealer server; resolves once it listens.
 * @example
 * ```ts
 * const dealer = await startDealer({ port: 7000, identity: dealerId, protocol: 'replicated', parties: [{ fingerprint: fpA }, { fingerprint: fpB }, { fingerprint: fpC }] });
 * // ... the parties connect with dealer: { host, port: dealer.port, fingerprint: dealerId.fingerprint }
 * await dealer.close();
 * ```
 */
export async function startDealer(options: DealerOptions): Promise<DealerHandle> {
  assertOptions('options', options, DEALER_KEYS);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`host must be a non-empty string, got ${describeValue(host)}`);
  const port = options.port ?? 0;
  assertInteger('port', port, 0, 65535);
  const protocol = options.protocol;
  if (protocol !== 'additive' && protocol !== 'replicated') {
    throw new (typeof protocol === 'string' ? RangeError : TypeError)(
      `protocol must be 'additive' or 'replicated', got ${describeValue(protocol)}`,
    );
  }
  if (!Array.isArray(options.parties))
    throw new TypeError(`parties must be an array of { fingerprint }, got ${describeValue(options.parties)}`);
  const n = options.parties.length;
  if (protocol === 'replicated' ? n !== 3 : n < 2 || n > 16) {
    throw new RangeError(
      `parties must list ${protocol === 'replicated' ? 'exactly 3 parties for the replicated protocol' : '2 to 16 parties'}, got ${n}`,
    );
  }
  const fps: string[] = [];
  for (let i = 0; i < n; i++) {
    assertOptions(`parties[${i}]`, options.parties[i], ['fingerprint']);
    const fp = normalizeFingerprint(`parties[${i}].fingerprint`, options.parties[i].fingerprint);
    if (fps.includes(fp))
      throw new RangeError(`parties[${i}].fingerprint repeats parties[${fps.indexOf(fp)}].fingerprint: every party needs its own identity`);
    fps.push(fp);
  }
  checkIdentity('identity', options.identity);
  const credentials = { key: options.identity.privateKeyPem, cert: options.identity.certificatePem };
  const groups = new Map<string, Group>();
  const sockets = new Set<tls.TLSSocket>();
  let closed = false;
  const mine = { version: WIRE_VERSION, role: 'dealer', protocol, parties: n };

  const refuse = (s: tls.TLSSocket, digest: Uint8Array, e: ProtocolAbortError): void => {
    // Tell the party why (its transport reports the reason), then close.
    const reason = Buffer.from(JSON.stringify({ message: e.message, party: e.party }), 'utf8');
    s.write(frameHeader(ABORT, digest, 1, 'abort', reason.length, 0, reason.length));
    s.end(reason);
    setTimeout(() => s.destroy(), 2000).unref();
  };

  const server = tls.createServer({ ...tlsOptions(credentials), requestCert: true, rejectUnauthorized: false });
  server.on('tlsClientError', () => {});
  server.on('secureConnection', (s: tls.TLSSocket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.pause();
    if (closed) {
      s.destroy();
      return;
    }
    const p = fps.indexOf(presented(s));
    if (p < 0) {
      s.destroy(); // not a party: refused before any protocol byte
      return;
    }
    exchangeHello(s, mine, new Uint8Array(16), `party ${p}`, p).then(
      ({ hello, rest }) => {
        const sessionId = typeof hello.sessionId === 'string' ? hello.sessionId : '';
        const digest = sessionDigest(sessionId);
        try {
          if (hello.role !== 'party' || hello.party !== p) {
            throw new ProtocolAbortError(
              `party ${p}'s certificate was used by a peer that says it is party ${JSON.stringify(hello.party)}`,
              { party: p },
            );
          }
          agree(hello, mine, DEALER_FIELDS, `party ${p}`, p);
        } catch (e) {
          refuse(s, digest, e as ProtocolAbortError);
          return;
        }
        let g = groups.get(sessionId);
        if (g === undefined || g.transport !== null) {
          if (g !== undefined && g.transport !== null) {
            refuse(
              s,
              digest,
              new ProtocolAbortError(`session ${JSON.stringify(sessionId)} is already running at this dealer`, { party: p }),
            );
            return;
          }
          g = {
            links: new Array<TlsLink | null>(n + 1).fill(null),
            detach: new Array<(() => Buffer) | null>(n).fill(null),
            transport: null,
            timeoutMs: 2 ** 31 - 1,
          };
          groups.set(sessionId, g);
        }
        if (g.links[p] !== null) {
          refuse(
            s,
            digest,
            new ProtocolAbortError(`party ${p} is already connected for session ${JSON.stringify(sessionId)}`, { party: p }),
          );
          return;
        }
        const link: TlsLink = { socket: s, rest, lanes: new Set(p === 0 ? ['req'] : []) };
        g.links[p] = link;
        g.detach[p] = watchWhileWaiting(s, rest, () => {
          // The party gave up (its connect timed out or it stopped) before the others came: free its slot, or
          // its retry of the same session would be refused as a second connection.
          const group = g as Group;
          if (group.transport !== null || group.links[p] !== link) return;
          group.links[p] = null;
          group.detach[p] = null;
          s.destroy();
          if (group.links.every((l) => l === null) && groups.get(sessionId) === group) groups.delete(sessionId);
        });
        if (typeof hello.timeoutMs === 'number' && hello.timeoutMs >= 1) g.timeoutMs = Math.min(g.timeoutMs, hello.timeoutMs);
        if (g.links.slice(0, n).every((l) => l !== null)) serve(sessionId, g, digest);
      },
      () => s.destroy(),
    );
  });

  const serve = (sessionId: string, g: Group, digest: Uint8Array): void => {
    for (let i = 0; i < n; i++) {
      const l = g.links[i] as TlsLink;
      g.links[i] = { ...l, rest: (g.detach[i] as () => Buffer)() };
      g.detach[i] = null;
    }
    const transport = new TlsTransport({
      party: n,
      parties: n,
      links: g.links,
      digest,
      timeoutMs: 0,
      pingMs: g.timeoutMs / 4,
      // The parties leave one by one at the end of a session: a goodbye is normal here, not a fault.
      quietBye: true,
      onFailure: () => {},
    });
    g.transport = transport;
    runDealer({ transport, parties: n, protocol }).catch((e: unknown) => transport.fail(e instanceof Error ? e : new Error(String(e))));
    void transport.allClosed().then(() => {
      transport.close();
      if (groups.get(sessionId) === g) groups.delete(sessionId);
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(e));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | null = null;
  return {
    port: bound,
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const g of groups.values()) {
          if (g.transport !== null) g.transport.fail(new ProtocolAbortError('the dealer was shut down', { party: -1 }));
          else for (const l of g.links) l?.socket.destroy();
        }
        groups.clear();
        for (const s of sockets) s.end();
        const deadline = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, 2000);
        await stopped;
        clearTimeout(deadline);
      })();
      return closing;
    },
  };
}

/**
 * Reads a party's socket while it waits for the others (a paused socket would never report the party's ABORT
 * or end): calls `gone` when the party closes or fails, and keeps what it sent (the requests it may already
 * make) for the transport. The returned function stops watching and returns those bytes.
 */
function watchWhileWaiting(s: tls.TLSSocket, rest: Buffer, gone: () => void): () => Buffer {
  const early: Buffer[] = [rest];
  let bytes = rest.length;
  const onData = (d: Buffer): void => {
    early.push(d);
    bytes += d.length;
    // Bounded: past one frame's worth the party waits (TCP backpressure) like any unread peer.
    if (bytes > MAX_FRAME) s.pause();
  };
  s.on('data', onData);
  s.once('end', gone);
  s.once('close', gone);
  s.on('error', gone);
  s.resume();
  return () => {
    s.pause();
    s.off('data', onData);
    s.off('end', gone);
    s.off('close', gone);
    s.off('error', gone);
    return Buffer.concat(early, bytes);
  };
}
