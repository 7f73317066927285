// Helpers for sessions across machines in tests: identities, ports the system assigns, a dealer, and party
// processes (or in-process parties when a test only needs real sockets, not separate processes).
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { SmpcSession, generateIdentity, startDealer, type DealerHandle, type Identity } from '../../src/index.ts';
import { fixture } from './child.ts';

/** A port the system assigned to a listener that is closed again (the party listens on it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Setup {
  readonly ids: Identity[];
  readonly dealerId: Identity;
  /** Null when no dealer was started (dealer-free replicated sharing). */
  readonly dealer: DealerHandle | null;
  readonly peers: { host: string; port: number; fingerprint: string }[];
  readonly dealerAddress: { host: string; port: number; fingerprint: string } | null;
}

/** Identities, ports and (unless `withDealer` is false) a running dealer for `n` parties. */
export async function setup(n: number, protocol: 'additive' | 'replicated', withDealer = true): Promise<Setup> {
  const ids = Array.from({ length: n }, () => generateIdentity());
  const dealerId = generateIdentity({ name: 'dealer' });
  const dealer = withDealer
    ? await startDealer({ identity: dealerId, protocol, parties: ids.map((i) => ({ fingerprint: i.fingerprint })) })
    : null;
  const peers = [];
  for (const id of ids) peers.push({ host: '127.0.0.1', port: await freePort(), fingerprint: id.fingerprint });
  const dealerAddress = dealer === null ? null : { host: '127.0.0.1', port: dealer.port, fingerprint: dealerId.fingerprint };
  return { ids, dealerId, dealer, peers, dealerAddress };
}

/** What one party process printed. */
export interface PartyOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly result: Record<string, number[]> | null;
  readonly abort: { message: string; party: number } | null;
  readonly stderr: string;
  /** Date.now() when the process exited. */
  readonly exitedAt: number;
}

export interface PartyProcess {
  readonly child: ChildProcess;
  readonly outcome: Promise<PartyOutcome>;
  /** Resolves when the process printed a line starting with `prefix`. */
  line(prefix: string): Promise<string>;
}

/** Starts party `party` of `s` as a child process running test/fixtures/network-party.ts. */
export function partyProcess(
  s: Setup,
  party: number,
  extra: { protocol: 'additive' | 'replicated'; scenario: 'ops' | 'loop'; timeoutMs: number; sessionId?: string },
): PartyProcess {
  const config = {
    party,
    protocol: extra.protocol,
    peers: s.peers,
    identity: s.ids[party],
    dealer: s.dealerAddress,
    sessionId: extra.sessionId ?? 'test-session',
    timeoutMs: extra.timeoutMs,
    scenario: extra.scenario,
  };
  // The Node binary itself (not the workspace's `.bin/node` shell shim), so that a signal reaches the party.
  const child = spawn(process.execPath, ['--conditions=@ppml/source', fixture('network-party.ts'), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of [...waiters]) {
      const l = stdout.split('\n').find((x) => x.startsWith(w.prefix));
      if (l !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A watchdog: no party process may outlive the test.
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const outcome = new Promise<PartyOutcome>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      const line = (p: string) => stdout.split('\n').find((l) => l.startsWith(p));
      const r = line('RESULT ');
      const a = line('ABORT ');
      resolve({
        code,
        signal,
        result: r ? (JSON.parse(r.slice(7)) as Record<string, number[]>) : null,
        abort: a ? (JSON.parse(a.slice(6)) as { message: string; party: number }) : null,
        stderr,
        exitedAt: Date.now(),
      });
    });
  });
  return {
    child,
    outcome,
    line: (prefix) =>
      new Promise((resolve) => {
        const l = stdout.split('\n').find((x) => x.startsWith(prefix));
        if (l !== undefined) resolve(l);
        else waiters.push({ prefix, resolve });
      }),
  };
}

/** A party that could not listen because another process had bound its port (the collision the helpers retry). */
const PORT_TAKEN = /could not listen on .*EADDRINUSE/;

/**
 * Starts every party of `s` as a child process (see {@link partyProcess}) and returns them once each has printed a
 * line starting with `ready` (or, without `ready`, once each has exited). If a party could not listen because
 * another process bound its port first (see {@link connectAll}), every party is stopped and started again on fresh
 * ports; nothing else is retried.
 */
export async function startParties(s: Setup, extra: Parameters<typeof partyProcess>[2], ready?: string): Promise<PartyProcess[]> {
  for (let tries = 1; ; tries++) {
    const procs = s.ids.map((_, p) => partyProcess(s, p, extra));
    const states = await Promise.all(
      procs.map((p) => (ready === undefined ? p.outcome : Promise.race([p.line(ready).then(() => null), p.outcome]))),
    );
    // A party that exits before it is ready cannot have collided unless it says so; only that case is retried.
    const collided = states.some((o) => o !== null && PORT_TAKEN.test(o.abort?.message ?? ''));
    if (!collided || tries === 3) return procs;
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.outcome));
    for (const peer of s.peers) peer.port = await freePort();
  }
}

/** Connects every party in this process (real TLS sockets on loopback); `tweak` edits one party's options. */
export async function connectAll(
  s: Setup,
  protocol: 'additive' | 'replicated',
  tweak: (party: number, o: Parameters<typeof SmpcSession.connect>[0]) => Parameters<typeof SmpcSession.connect>[0] = (_, o) => o,
  timeoutMs = 5000,
): Promise<PromiseSettledResult<SmpcSession>[]> {
  const attempt = (): Promise<PromiseSettledResult<SmpcSession>[]> =>
    Promise.allSettled(
      s.ids.map((identity, party) =>
        SmpcSession.connect(
          tweak(party, {
            party,
            protocol,
            peers: s.peers,
            identity,
            dealer: s.dealerAddress ?? undefined,
            sessionId: 'in-process',
            programId: 'p1',
            timeoutMs,
          }),
        ),
      ),
    );
  // A port is free when the system hands it out, but the parties listen on it only once their sessions start;
  // another test file running beside this one may bind it first (the parties' peers then reach that process and
  // refuse its certificate). Only that collision, a party that could not listen because its address was in use,
  // is retried, with fresh ports for every party; any other outcome is returned as it is.
  for (let tries = 1; ; tries++) {
    const results = await attempt();
    const collided = results.some((r) => r.status === 'rejected' && PORT_TAKEN.test(String(r.reason?.message)));
    if (!collided || tries === 3) return results;
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    for (const peer of s.peers) peer.port = await freePort();
  }
}
