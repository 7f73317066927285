// A TCP relay between two parties, standing in for a network attacker or a slow WAN. It understands TLS
// record framing (RFC 8446 Sec. 5.1: 1-byte type, 2-byte version, 2-byte length) so that it can tamper with
// exactly one record of the client-to-server direction: flip a bit in it, send it twice, drop it, or swap it
// with the next record. 'delay' holds every chunk, both ways, for `delayMs` (order kept).
import net from 'node:net';

export type ProxyMode = 'flip' | 'duplicate' | 'drop' | 'reorder' | 'delay';

export interface Relay {
  readonly port: number;
  /** Whether the tampering happened. */
  readonly tampered: boolean;
  close(): Promise<void>;
}

export async function startProxy(
  /** The party's port, or a function giving it when a client arrives (it changes if the party had to move). */
  target: number | (() => number),
  mode: ProxyMode,
  options: { afterRecords?: number; delayMs?: number } = {},
): Promise<Relay> {
  const afterRecords = options.afterRecords ?? 12;
  const delayMs = options.delayMs ?? 10;
  const sockets = new Set<net.Socket>();
  let tampered = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(typeof target === 'number' ? target : target(), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    if (mode === 'delay') {
      const delayed = (from: net.Socket, to: net.Socket) =>
        from.on('data', (d: Buffer) => {
          setTimeout(() => to.writable && to.write(d), delayMs);
        });
      delayed(client, upstream);
      delayed(upstream, client);
      return;
    }
    upstream.on('data', (d: Buffer) => client.write(d));
    let pending = Buffer.alloc(0);
    let records = 0;
    let held: Buffer | null = null;
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 5) {
        const len = 5 + pending.readUInt16BE(3);
        if (pending.length < len) break;
        const rec = Buffer.from(pending.subarray(0, len));
        pending = pending.subarray(len);
        const app = rec[0] === 23;
        if (app) records++;
        if (held !== null) {
          upstream.write(rec);
          upstream.write(held);
          held = null;
          continue;
        }
        if (!app || records !== afterRecords || tampered) {
          upstream.write(rec);
          continue;
        }
        tampered = true;
        if (mode === 'flip') {
          rec[5 + Math.floor((len - 5) / 2)] ^= 0x10;
          upstream.write(rec);
        } else if (mode === 'duplicate') {
          upstream.write(rec);
          upstream.write(rec);
        } else if (mode === 'reorder') {
          held = rec;
        }
        // 'drop': the record is not forwarded.
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get tampered() {
      return tampered;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
