/**
 * Establishing authenticated links (internal): TLS 1.3 servers and clients with mutual authentication where
 * each side pins the other's certificate by its SHA-256 fingerprint (no certificate authority, no dates), then
 * the agreement handshake: each side sends a HELLO frame with the parameters of the run and checks the peer's.
 * Nothing of the protocol is read from or written to a connection before its certificate matched.
 * @module
 */
import * as tls from 'node:tls';
import { ProtocolAbortError } from '../errors.ts';
import { ABORT, FrameReader, HEADER, HELLO, MAX_FRAME, frameHeader, type Frame } from '../transport/frames.ts';

/** Key and certificate for node:tls. */
export interface TlsCredentials {
  readonly key: string;
  readonly cert: string;
}

/** TLS options shared by servers and clients: TLS 1.3 only, pinned certificates checked by the caller. */
export function tlsOptions(
  credentials: TlsCredentials,
): tls.SecureContextOptions & { minVersion: 'TLSv1.3'; maxVersion: 'TLSv1.3'; noDelay: true } {
  // No Nagle: a protocol round is a burst of frames followed by a wait for the peer's reply, and Nagle with
  // delayed ACKs would add up to 40 ms to every round.
  return { key: credentials.key, cert: credentials.cert, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', noDelay: true };
}

/** The fingerprint a peer presented, or '(none)'. */
export function presented(socket: tls.TLSSocket): string {
  const c = socket.getPeerCertificate();
  return c && typeof c.fingerprint256 === 'string' && c.fingerprint256.length > 0 ? c.fingerprint256 : '(no certificate)';
}

/**
 * Dials `host:port` until it accepts (a peer may start later) or `deadline` passes, and checks that the server
 * presents `fingerprint`. A mismatch is final: it rejects at once, naming `who` and both fingerprints.
 * @example
 * ```ts
 * const socket = await dial({ host: '127.0.0.1', port: 7001, fingerprint, who: 'party 0', credentials, deadline: Date.now() + 60_000, party: 0 });
 * ```
 */
export async function dial(o: {
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
  readonly who: string;
  readonly party: number;
  readonly credentials: TlsCredentials;
  readonly deadline: number;
  readonly cancelled: () => boolean;
  readonly track: (s: tls.TLSSocket) => void;
}): Promise<tls.TLSSocket> {
  let lastError: Error | null = null;
  while (Date.now() < o.deadline && !o.cancelled()) {
    const result = await new Promise<tls.TLSSocket | Error>((resolve) => {
      const s = tls.connect({
        ...tlsOptions(o.credentials),
        host: o.host,
        port: o.port,
        // Pinned certificates, checked below: no chain, no host name, no dates.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        timeout: Math.max(1, o.deadline - Date.now()),
      });
      o.track(s);
      s.pause();
      const onError = (e: Error): void => {
        s.destroy();
        resolve(e);
      };
      s.once('error', onError);
      s.once('timeout', () => onError(new Error('TLS handshake timed out')));
      s.once('secureConnect', () => {
        s.off('error', onError);
        s.setTimeout(0);
        const got = presented(s);
        if (got !== o.fingerprint) {
          s.destroy();
          resolve(
            new ProtocolAbortError(
              `${o.who} presented certificate fingerprint ${got}, but this party pins ${o.fingerprint} for it: connection refused`,
              {
                party: o.party,
              },
            ),
          );
          return;
        }
        resolve(s);
      });
    });
    if (!(result instanceof Error)) return result;
    if (result instanceof ProtocolAbortError) throw result;
    lastError = result;
    const code = (result as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && code !== 'EHOSTUNREACH' && code !== 'ETIMEDOUT' && code !== 'EAI_AGAIN') {
      throw new ProtocolAbortError(`could not connect to ${o.who} at ${o.host}:${o.port}: ${result.message}`, {
        party: o.party,
        cause: result,
      });
    }
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, o.deadline - Date.now()))));
  }
  throw new ProtocolAbortError(
    `could not connect to ${o.who} at ${o.host}:${o.port} within the timeout${lastError ? ` (${lastError.message})` : ''}`,
    {
      party: o.party,
      cause: lastError ?? undefined,
    },
  );
}

/** What a HELLO carries: the run's parameters (compared field by field) and the sender's role. */
export type Hello = Readonly<Record<string, string | number>>;

/**
 * Sends this side's HELLO and reads the peer's first frame, which must be its HELLO. Returns the peer's HELLO
 * and the bytes read past it; `check` throws to refuse it. Rejects when the peer closes or sends garbage.
 * @example
 * ```ts
 * const { hello, rest } = await exchangeHello(socket, mine, digest, 'party 2', 2, (h) => compare(h));
 * ```
 */
export function exchangeHello(
  socket: tls.TLSSocket,
  mine: Hello,
  digest: Uint8Array,
  who: string,
  party: number,
): Promise<{ hello: Record<string, unknown>; rest: Buffer }> {
  const payload = Buffer.from(JSON.stringify(mine), 'utf8');
  socket.write(frameHeader(HELLO, digest, 0, 'hello', payload.length, 0, payload.length));
  socket.write(payload);
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = (e: Error | null, value?: { hello: Record<string, unknown>; rest: Buffer }): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (e) reject(e);
      else resolve(value as { hello: Record<string, unknown>; rest: Buffer });
    };
    const onError = (e: Error): void =>
      done(new ProtocolAbortError(`the connection to ${who} failed during the handshake: ${e.message}`, { party, cause: e }));
    const onClose = (): void =>
      done(
        new ProtocolAbortError(
          `${who} closed the connection during the handshake (it refused this party's certificate or parameters, or stopped)`,
          { party },
        ),
      );
    const onData = (d: Buffer): void => {
      buffered = buffered.length === 0 ? d : Buffer.concat([buffered, d]);
      if (buffered.length < 4) return;
      const n = buffered.readUInt32BE(0);
      if (n < HEADER || n > MAX_FRAME) {
        done(new ProtocolAbortError(`${who} sent garbage instead of its handshake (frame length ${n})`, { party }));
        return;
      }
      if (buffered.length < 4 + n) return;
      let f: Frame;
      try {
        f = new FrameReader().push(buffered.subarray(0, 4 + n))[0] as Frame;
      } catch (e) {
        done(new ProtocolAbortError(`${who} sent garbage instead of its handshake (${(e as Error).message})`, { party }));
        return;
      }
      if (f.kind === ABORT && f.seq === 0) {
        done(new ProtocolAbortError(`${who} refused to start the session: ${abortReason(f.payload)}`, { party }));
        return;
      }
      if (f.kind !== HELLO || f.seq !== 0) {
        done(new ProtocolAbortError(`${who} sent frame kind ${f.kind} number ${f.seq} instead of its handshake`, { party }));
        return;
      }
      let hello: unknown;
      try {
        hello = JSON.parse(Buffer.from(f.payload).toString('utf8'));
      } catch {
        hello = null;
      }
      if (hello === null || typeof hello !== 'object' || Array.isArray(hello)) {
        done(new ProtocolAbortError(`${who} sent an unreadable handshake`, { party }));
        return;
      }
      // The peer's next frames may follow in the same chunk: they go to the transport unparsed.
      socket.pause();
      done(null, { hello: hello as Record<string, unknown>, rest: Buffer.from(buffered.subarray(4 + n)) });
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.resume();
  });
}

/**
 * Compares the peer's HELLO with this side's on `fields`, in order; the first difference is an error naming
 * the peer and the field.
 * @example
 * ```ts
 * agree(theirs, mine, ['sessionId', 'protocol'], 'party 2', 2);
 * ```
 */
export function agree(theirs: Record<string, unknown>, mine: Hello, fields: readonly string[], who: string, party: number): void {
  for (const field of fields) {
    if (theirs[field] !== mine[field]) {
      throw new ProtocolAbortError(
        `${who} disagrees on ${field}: it has ${JSON.stringify(theirs[field]) ?? 'nothing'}, this party has ${JSON.stringify(mine[field])}`,
        { party },
      );
    }
  }
}

function abortReason(payload: Uint8Array): string {
  try {
    const m = JSON.parse(Buffer.from(payload).toString('utf8')) as { message?: unknown };
    return typeof m.message === 'string' ? m.message.slice(0, 2000) : 'no reason given';
  } catch {
    return 'no reason given';
  }
}

/**
 * Writes a HELLO (unless this side already sent one) and an ABORT frame with `e`'s reason, then ends the
 * connection politely (no reset that could discard what the peer still has to read): a peer that has not yet
 * compared parameters with this side can then name the field itself.
 * @example
 * ```ts
 * sayAbort(socket, hello, digest, helloSent, error);
 * ```
 */
export function sayAbort(socket: tls.TLSSocket, mine: Hello, digest: Uint8Array, helloSent: boolean, e: ProtocolAbortError): void {
  if (socket.destroyed || !socket.writable) return;
  let seq = 0;
  if (!helloSent) {
    const hello = Buffer.from(JSON.stringify(mine), 'utf8');
    socket.write(frameHeader(HELLO, digest, seq++, 'hello', hello.length, 0, hello.length));
    socket.write(hello);
  } else {
    seq = 1;
  }
  const reason = Buffer.from(JSON.stringify({ message: e.message, party: e.party }), 'utf8');
  socket.write(frameHeader(ABORT, digest, seq, 'abort', reason.length, 0, reason.length));
  socket.end(reason);
  socket.resume();
}
