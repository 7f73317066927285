// A party that throws, exits, hangs or sends a malformed message ends the run with ProtocolAbortError within
// the timeout, every worker terminated, and close() idempotent. The faults are injected with the test-only
// `faultInjection` option.
import { describe, expect, it } from 'vitest';
import { ProtocolAbortError, SmpcSession, type FaultInjection } from '../src/index.ts';

async function runWithFault(fault: FaultInjection, protocol: 'additive' | 'replicated', timeoutMs = 1500) {
  const session = await SmpcSession.start({ parties: 3, protocol, timeoutMs, faultInjection: fault });
  const x = await session.share(0, Float64Array.of(1, 2, 3));
  const y = await session.share(2, Float64Array.of(4, 5, 6));
  const started = Date.now();
  const error = await session.reveal(session.mul(x, y)).then(
    () => null,
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  // Termination is asynchronous; give it a moment (bounded) to finish.
  for (let i = 0; i < 100 && session.activeWorkers > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return { session, error, elapsed, x, y };
}

describe('fault handling', () => {
  {
    const protocol = 'replicated' as const;
    it(`a party that throws mid-protocol aborts every party (${protocol})`, async () => {
      const { session, error, x, y } = await runWithFault({ party: 1, operation: 'mul', kind: 'throw' }, protocol);
      expect(error).toBeInstanceOf(ProtocolAbortError);
      expect((error as ProtocolAbortError).party).toBe(1);
      expect(String((error as Error).message)).toMatch(/party 1/);
      expect(((error as Error).cause as Error).message).toMatch(/injected crash/);
      expect(session.activeWorkers).toBe(0);
      // After an abort every call fails fast with the same error; close stays idempotent.
      expect(session.abortError).toBe(error);
      await expect(session.share(0, [1])).rejects.toBe(error);
      await expect(session.sync()).rejects.toBe(error);
      expect(() => session.mul(x, y)).toThrow(ProtocolAbortError);
      await Promise.all([session.close(), session.close()]);
      await session.close();
    });
  }

  it('a party whose thread exits aborts the run', async () => {
    const { session, error } = await runWithFault({ party: 2, operation: 'mul', kind: 'exit' }, 'additive');
    expect(error).toBeInstanceOf(ProtocolAbortError);
    expect((error as Error).message).toMatch(/party 2 exited with code 7/);
    expect(session.activeWorkers).toBe(0);
    await session.close();
  });

  it('a party that hangs aborts the run within the timeout', async () => {
    const { session, error, elapsed } = await runWithFault({ party: 0, operation: 'mul', kind: 'hang' }, 'additive', 800);
    expect(error).toBeInstanceOf(ProtocolAbortError);
    expect((error as Error).message).toMatch(/no progress within 800 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(800 + 5000);
    expect(session.activeWorkers).toBe(0);
    await session.close();
  });

  for (const protocol of ['replicated'] as const) {
    it(`a corrupted message aborts the run and blames its sender (${protocol})`, async () => {
      const { session, error } = await runWithFault({ party: 2, operation: 'mul', kind: 'corrupt' }, protocol);
      expect(error).toBeInstanceOf(ProtocolAbortError);
      expect((error as ProtocolAbortError).party).toBe(2);
      expect(((error as Error).cause as Error).message).toMatch(/from party 2 has \d+ bytes, expected \d+/);
      expect(session.activeWorkers).toBe(0);
      await session.close();
    });
  }

  it('close() is idempotent on a healthy session, rejects pending work, and refuses new work', async () => {
    const session = await SmpcSession.start({ parties: 2, protocol: 'additive' });
    const x = await session.share(0, [1, 2]);
    const pending = session.reveal(session.relu(x)).then(
      () => null,
      (e: unknown) => e,
    );
    const first = session.close();
    expect(session.close()).toBe(first);
    await first;
    expect(await pending).toBeInstanceOf(ProtocolAbortError);
    expect(session.activeWorkers).toBe(0);
    await expect(session.share(0, [1])).rejects.toBeInstanceOf(ProtocolAbortError);
  });

  it('a long loop of operations with free() does not grow memory', async () => {
    const session = await SmpcSession.start({ parties: 3, protocol: 'replicated' });
    const round = async (): Promise<void> => {
      const x = await session.share(1, new Float64Array(10_000).fill(1.25));
      const y = session.mul(x, x);
      const z = session.relu(y);
      await session.reveal(z);
      session.free(x, y, z);
    };
    // Warm up until the heaps of the four threads reach their working size, then require a plateau.
    for (let i = 0; i < 5; i++) await round();
    await session.sync();
    const stored = session.stats().storedPerParty;
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 12; i++) await round();
    await session.sync();
    // Every party holds exactly as many values as before the loop (free() reached every worker) ...
    expect(session.stats().storedPerParty).toEqual(stored);
    // ... and the process does not grow (generous bound: four threads' heaps settle at different sizes).
    expect(process.memoryUsage().rss - before).toBeLessThan(128 * 1024 * 1024);
    await session.close();
    expect(session.activeWorkers).toBe(0);
  });
});
