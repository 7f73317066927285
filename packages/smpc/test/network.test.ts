// Sessions across machines: one process per party, mutually authenticated TLS 1.3 on 127.0.0.1 with ports the
// system assigns, a dealer server in this process. Correctness against plaintext (both protocols; additive with
// 2, 3 and 4 parties), inputs that never leave their owner, agreement failures, a relay that tampers with one
// TLS record, a party killed with SIGKILL, and a 10 ms-per-hop relay.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolAbortError, SmpcSession, generateIdentity } from '../src/index.ts';
import { expectedResults } from './support/network-inputs.ts';
import { connectAll, setup, startParties, type Setup } from './support/network.ts';
import { startProxy, type Relay } from './support/proxy.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function prepared(n: number, protocol: 'additive' | 'replicated', withDealer = true): Promise<Setup> {
  const s = await setup(n, protocol, withDealer);
  cleanups.push(() => s.dealer?.close());
  return s;
}

function sessionsOf(results: PromiseSettledResult<SmpcSession>[]): SmpcSession[] {
  const ok = results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  cleanups.push(async () => {
    await Promise.all(ok.map((s) => s.close()));
  });
  return ok;
}

function close(actual: readonly number[], expected: readonly number[], tol: number): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThanOrEqual(tol);
}

describe('party processes compute what plaintext computes', () => {
  // Replicated sharing twice: dealer-free (no dealer process exists at all) and with a dealer.
  const runs = [
    { protocol: 'replicated', n: 3, dealer: false },
    { protocol: 'replicated', n: 3, dealer: true },
    { protocol: 'additive', n: 3, dealer: true },
    { protocol: 'additive', n: 2, dealer: true },
    { protocol: 'additive', n: 4, dealer: true },
  ] as const;
  it.each(runs)(
    '$protocol with $n parties (dealer: $dealer): mul, lessThan, sigmoid, matmul, LR inference and training',
    async ({ protocol, n, dealer }) => {
      const s = await prepared(n, protocol, dealer);
      expect(s.dealer === null).toBe(!dealer);
      const procs = await startParties(s, { protocol, scenario: 'ops', timeoutMs: 20_000 });
      const outcomes = await Promise.all(procs.map((p) => p.outcome));
      const want = expectedResults(n);
      outcomes.forEach((o, party) => {
        expect(o.stderr).toBe('');
        expect(o.code).toBe(0);
        const r = o.result as Record<string, number[]>;
        expect(r).not.toBeNull();
        // Documented bounds: one unit 2^-16 per product; sigmoid 5e-4; matmul k products; training: 2 epochs.
        close(r.mul, want.mul, 1e-4);
        expect(r.less).toEqual(want.less);
        close(r.sig, want.sig, 1e-3);
        close(r.mm, want.mm, 1e-3);
        close(r.lr, want.lr, 2e-3);
        close(r.weights, want.weights, 1e-2);
        close(r.bias, want.bias, 1e-2);
        // revealTo(n - 1): only that process receives the values.
        if (party === n - 1) close(r.mine, want.mine, 1e-4);
        else expect(r.mine).toEqual([]);
      });
    },
  );
});

describe('bad input is refused before any socket opens', () => {
  it('names the parameter for every kind of mistake', async () => {
    // Both addresses are taken by listeners here: a party that listened would fail with EADDRINUSE, and a dial
    // to the "dealer" would be counted.
    let dialled = 0;
    const trap = net.createServer((c) => {
      dialled++;
      c.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => trap.close(() => r())));
    const port = (trap.address() as net.AddressInfo).port;
    const ids = [generateIdentity(), generateIdentity(), generateIdentity()];
    const peers = ids.map((id, i) => ({ host: '127.0.0.1', port: port + 1 + i, fingerprint: id.fingerprint }));
    const dealer = { host: '127.0.0.1', port, fingerprint: generateIdentity().fingerprint };
    const base = { party: 0, protocol: 'replicated' as const, peers, identity: ids[0], dealer, sessionId: 's', timeoutMs: 2000 };
    const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
      [{ party: 3 }, RangeError, /party must be a party id in \[0, 2\]/],
      [{ party: '0' }, TypeError, /party must be a party id/],
      [{ peers: [peers[0], { ...peers[1], port: peers[0].port }, peers[2]] }, RangeError, /peers\[1\]\.port repeats peers\[0\]/],
      [{ peers: peers.slice(0, 2) }, RangeError, /peers must have 3 for the replicated protocol, got 2/],
      [{ protocol: 'additive', peers: peers.slice(0, 1) }, RangeError, /peers must list 2 to 16 parties/],
      [{ dealer: { ...dealer, port: 0 } }, RangeError, /dealer\.port/],
      [
        { identity: { certificatePem: ids[0].certificatePem, fingerprint: ids[0].fingerprint } },
        TypeError,
        /identity\.privateKeyPem must be the PEM private key/,
      ],
      [{ identity: ids[1] }, RangeError, /but peers\[0\]\.fingerprint \(this party's entry\)/],
      [
        { peers: [{ ...peers[0], fingerprint: 'AB:CD' }, peers[1], peers[2]] },
        RangeError,
        /peers\[0\]\.fingerprint must be a SHA-256 fingerprint/,
      ],
      [{ sessionId: '' }, RangeError, /sessionId must have 1 to 256 characters/],
      [{ timeoutMs: 0 }, RangeError, /timeoutMs must be a number in \[1/],
      [{ extra: 1 }, TypeError, /extra/],
    ];
    for (const [change, type, message] of cases) {
      const error = await SmpcSession.connect({ ...base, ...change } as never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(Object.keys(change))).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
    }
    expect(dialled).toBe(0);
  });
});

describe('each process only ever holds its own plaintext', () => {
  it('refuses values for another party, a shape for its own input, and revealing a raw input; computed results are revealed', async () => {
    const s = await prepared(3, 'replicated');
    const sessions = sessionsOf(await connectAll(s, 'replicated'));
    const values = Float64Array.of(2, -3, 0.5);
    // Party 1 was given party 0's data by mistake: it cannot put it into the computation.
    await expect(sessions[1].share(0, values)).rejects.toThrow(/values: party 0's input stays on party 0's machine/);
    await expect(sessions[0].share(0, { rows: 3, cols: 1 })).rejects.toThrow(/party 0 \(this process\) owns this input/);
    const xs = await Promise.all(sessions.map((ss, me) => (me === 0 ? ss.share(0, values) : ss.share(0, { rows: 3, cols: 1 }))));
    // No process can reveal party 0's raw input to anyone else...
    for (let me = 0; me < 3; me++) {
      await expect(sessions[me].reveal(xs[me])).rejects.toThrow(/raw input: across machines only computed tensors are revealed/);
      await expect(sessions[me].revealTo(1, xs[me])).rejects.toThrow(/raw input/);
    }
    // ...but a computed result, and the input back to its owner, are.
    const sums = await Promise.all(sessions.map((ss, me) => ss.reveal(ss.sum(xs[me]))));
    for (const r of sums) expect(Array.from(r)).toEqual([-0.5]);
    const back = await Promise.all(sessions.map((ss, me) => ss.revealTo(0, xs[me])));
    expect(Array.from(back[0])).toEqual([2, -3, 0.5]);
    expect(back[1]).toHaveLength(0);
    expect(back[2]).toHaveLength(0);
    // Party 0's process sent the plaintext to nobody: every other party's traffic is shares and masked openings.
    await Promise.all(sessions.map((ss) => ss.close()));
    for (const ss of sessions) expect(ss.activeWorkers).toBe(0);
  });
});

describe('agreement before any input', () => {
  it('a pinned fingerprint that does not match is refused, naming the party and both fingerprints', async () => {
    const s = await prepared(3, 'replicated');
    const impostor = generateIdentity().fingerprint;
    // Party 1 cannot tell that party 0 refused it (party 0 trusts nothing from it): it waits for its timeout.
    const results = await connectAll(
      s,
      'replicated',
      (party, o) => (party === 0 ? { ...o, peers: o.peers.map((p, i) => (i === 1 ? { ...p, fingerprint: impostor } : p)) } : o),
      1500,
    );
    for (const r of results) expect(r.status).toBe('rejected');
    const e0 = (results[0] as PromiseRejectedResult).reason as ProtocolAbortError;
    expect(e0).toBeInstanceOf(ProtocolAbortError);
    expect(e0.party).toBe(1);
    expect(e0.message).toContain(`party 1 presented certificate fingerprint ${s.ids[1].fingerprint}, but this party pins ${impostor}`);
    for (const r of results.slice(1)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ProtocolAbortError);
  });

  it.each([
    ['sessionId', { sessionId: 'another-study' }],
    ['programId', { programId: 'p2' }],
    // Parties 0 and 1 take material from the dealer, party 2 would make it with its peers.
    ['preprocessing', { dealer: undefined }],
  ] as const)('a different %s aborts every party with the field named', async (field, change) => {
    const s = await prepared(3, 'replicated');
    const results = await connectAll(s, 'replicated', (party, o) => (party === 2 ? { ...o, ...change } : o));
    for (const r of results) expect(r.status).toBe('rejected');
    for (const party of [0, 1]) {
      const e = (results[party] as PromiseRejectedResult).reason as ProtocolAbortError;
      expect(e).toBeInstanceOf(ProtocolAbortError);
      expect(e.message).toMatch(new RegExp(`party 2 disagrees on ${field}`));
      expect(e.party).toBe(2);
    }
  });
});

describe('the dealer after a failed connect', () => {
  it('a party whose connect timed out frees its place: the retry of the same session runs', async () => {
    const s = await prepared(2, 'additive');
    const first = await connectAll({ ...s, ids: [s.ids[0]] }, 'additive', undefined, 800);
    expect(first[0]?.status).toBe('rejected');
    await new Promise((r) => setTimeout(r, 200));
    const sessions = sessionsOf(await connectAll(s, 'additive'));
    const values = Float64Array.of(1.5, -2, 4);
    const xs = await Promise.all(sessions.map((ss, me) => (me === 0 ? ss.share(0, values) : ss.share(0, { rows: 3, cols: 1 }))));
    const sums = await Promise.all(sessions.map((ss, me) => ss.reveal(ss.sum(xs[me]))));
    for (const sum of sums) close(Array.from(sum), [3.5], 1e-3);
  });
});

describe('a link reset while the other links are still being set up', () => {
  it('fails the connect with a typed error naming the peer (not an unhandled socket error)', async () => {
    const s = await prepared(3, 'replicated', false);
    // Party 0 reaches party 1 through a relay that resets party 0's side once both have shaken hands; party 2
    // never comes, so party 0 is still waiting for it.
    const relays = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      const upstream = net.connect(s.peers[1].port, '127.0.0.1');
      for (const x of [client, upstream]) {
        relays.add(x);
        x.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      setTimeout(() => client.resetAndDestroy(), 1000);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => {
      for (const x of relays) x.destroy();
      relay.close();
    });
    const port = (relay.address() as net.AddressInfo).port;
    const [zero, one] = await connectAll(
      { ...s, ids: s.ids.slice(0, 2) },
      'replicated',
      (party, o) => (party === 0 ? { ...o, peers: o.peers.map((p, i) => (i === 1 ? { ...p, port } : p)) } : o),
      2500,
    );
    expect(zero?.status).toBe('rejected');
    const e = (zero as PromiseRejectedResult).reason as ProtocolAbortError;
    expect(e).toBeInstanceOf(ProtocolAbortError);
    expect(e.message).toMatch(/the connection to party 1 failed while the other links were set up/);
    expect(e.party).toBe(1);
    expect(one?.status).toBe('rejected');
  });
});

describe('a port taken by another process before its party listens', () => {
  it('the test harness moves every party to fresh ports and the session runs (only that collision is retried)', async () => {
    const s = await prepared(3, 'replicated');
    const taken = s.peers[1].port;
    const squatter = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const sessions = sessionsOf(await connectAll(s, 'replicated', undefined, 1500));
    expect(s.peers[1].port).not.toBe(taken);
    const revealed = await Promise.all(
      sessions.map(async (ss, me) => {
        const x = me === 0 ? await ss.share(0, Float64Array.of(1.5, -2)) : await ss.share(0, { rows: 2, cols: 1 });
        return ss.reveal(ss.mul(x, x));
      }),
    );
    for (const r of revealed) close(Array.from(r), [2.25, 4], 1e-3);
  });

  it('the same for party processes: they restart on fresh ports and finish', async () => {
    const s = await prepared(3, 'replicated', false);
    const taken = s.peers[2].port;
    const squatter = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const procs = await startParties(s, { protocol: 'replicated', scenario: 'ops', timeoutMs: 5000 });
    expect(s.peers[2].port).not.toBe(taken);
    const want = expectedResults(3);
    for (const o of await Promise.all(procs.map((p) => p.outcome))) {
      expect(o.stderr).toBe('');
      expect(o.abort).toBeNull();
      expect((o.result as Record<string, number[]>).less).toEqual(want.less);
    }
  });
});

describe('a relay between two parties that tampers with one TLS record', () => {
  it.each(['flip', 'duplicate', 'drop', 'reorder'] as const)('%s: every party aborts, no wrong result', async (mode) => {
    const s = await prepared(3, 'replicated');
    const proxy: Relay = await startProxy(() => s.peers[1].port, mode, { afterRecords: 10 });
    cleanups.push(() => proxy.close());
    // Party 0 reaches party 1 through the relay.
    const sessions = sessionsOf(
      await connectAll(
        s,
        'replicated',
        (party, o) => (party === 0 ? { ...o, peers: o.peers.map((p, i) => (i === 1 ? { ...p, port: proxy.port } : p)) } : o),
        1500,
      ),
    );
    const outcomes = await Promise.all(
      sessions
        .map(async (ss, me) => {
          const x = me === 0 ? await ss.share(0, new Float64Array(64).fill(1.5)) : await ss.share(0, { rows: 64, cols: 1 });
          const y = me === 1 ? await ss.share(1, new Float64Array(64).fill(-2)) : await ss.share(1, { rows: 64, cols: 1 });
          for (let k = 0; k < 200; k++) {
            const r = await ss.reveal(ss.sum(ss.mul(x, y)));
            expect(r[0]).toBeCloseTo(-192, 6); // until the abort, every result is right
          }
          return 'finished';
        })
        .map((p) =>
          p.then(
            () => null,
            (e: unknown) => e,
          ),
        ),
    );
    expect(proxy.tampered).toBe(true);
    for (const e of outcomes) expect(e).toBeInstanceOf(ProtocolAbortError);
    // Parties 0 and 1 see the broken link themselves; party 2 hears it from their abort messages.
    expect(outcomes.some((e) => /party [01]/.test((e as Error).message))).toBe(true);
  });
});

describe('a party killed mid-operation', () => {
  it('kill -9 of party 2: the others abort within timeoutMs naming it, and exit cleanly', async () => {
    const s = await prepared(3, 'replicated');
    const timeoutMs = 4000;
    const procs = await startParties(s, { protocol: 'replicated', scenario: 'loop', timeoutMs }, 'LOOPING');
    const killedAt = Date.now();
    procs[2].child.kill('SIGKILL');
    const [o0, o1, o2] = await Promise.all(procs.map((p) => p.outcome));
    expect(o2.signal).toBe('SIGKILL');
    for (const o of [o0, o1]) {
      expect(o.code).toBe(0);
      expect(o.stderr).toBe('');
      expect(o.abort).not.toBeNull();
      expect(o.abort?.party).toBe(2);
      expect(o.abort?.message).toMatch(/party 2/);
      expect(o.exitedAt - killedAt).toBeLessThan(timeoutMs);
    }
  });
});

describe('a stalled party', () => {
  it('SIGSTOP of party 2 (alive, sockets open, silent): the others abort after timeoutMs naming it', async () => {
    const s = await prepared(3, 'replicated');
    const timeoutMs = 1500;
    const procs = await startParties(s, { protocol: 'replicated', scenario: 'loop', timeoutMs }, 'LOOPING');
    cleanups.push(() => {
      procs[2].child.kill('SIGKILL');
    });
    const stoppedAt = Date.now();
    procs[2].child.kill('SIGSTOP');
    const [o0, o1] = await Promise.all([procs[0].outcome, procs[1].outcome]);
    for (const o of [o0, o1]) {
      expect(o.code).toBe(0);
      expect(o.abort?.party).toBe(2);
      expect(o.abort?.message).toMatch(/party 2 sent nothing, not even a keepalive, for 1500 ms/);
      // The waiting party notices after timeoutMs (checked every timeoutMs / 20); the other hears its abort.
      expect(o.exitedAt - stoppedAt).toBeGreaterThanOrEqual(timeoutMs);
      expect(o.exitedAt - stoppedAt).toBeLessThan(timeoutMs + 3000);
    }
    procs[2].child.kill('SIGKILL');
    expect((await procs[2].outcome).signal).toBe('SIGKILL');
  });
});

describe('latency', () => {
  it('10 ms added per hop still gives correct results', async () => {
    const s = await prepared(3, 'replicated');
    const proxies = await Promise.all([1, 2].map((p) => startProxy(() => s.peers[p].port, 'delay', { delayMs: 10 })));
    for (const p of proxies) cleanups.push(() => p.close());
    const via = (i: number, port: number) => (i === 1 ? proxies[0].port : i === 2 ? proxies[1].port : port);
    // Every dialled link goes through a relay (party i dials the higher parties; its own entry stays direct).
    const sessions = sessionsOf(
      await connectAll(
        s,
        'replicated',
        (party, o) => ({ ...o, peers: o.peers.map((p, i) => (i === party ? p : { ...p, port: via(i, p.port) })) }),
        10_000,
      ),
    );
    const xv = Float64Array.from({ length: 100 }, (_, i) => (i - 50) / 8);
    const yv = Float64Array.from({ length: 100 }, (_, i) => (37 - i) / 5);
    const out = await Promise.all(
      sessions.map(async (ss, me) => {
        const x = me === 0 ? await ss.share(0, xv) : await ss.share(0, { rows: 100, cols: 1 });
        const y = me === 1 ? await ss.share(1, yv) : await ss.share(1, { rows: 100, cols: 1 });
        return [await ss.reveal(ss.mul(x, y)), await ss.reveal(ss.lessThan(x, y))];
      }),
    );
    for (const [prod, less] of out) {
      close(
        Array.from(prod),
        Array.from(xv, (v, i) => v * yv[i]),
        1e-4,
      );
      expect(Array.from(less)).toEqual(Array.from(xv, (v, i) => (v < yv[i] ? 1 : 0)));
    }
  });
});
