// What a plain script sees (exit codes, hangs at exit, worker flags): each case runs in a child process on the
// workspace Node, because the test runner keeps the event loop alive and would hide an unsettled close().
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ProtocolAbortError, SmpcSession } from '../src/index.ts';
import { fixture, runNode } from './support/child.ts';

const SOURCE = ['--conditions=@ppml/source'];
const CHILD_MS = 45_000;

describe('close() after an abort settles in a plain script', () => {
  for (const cause of ['throw', 'exit', 'hang', 'corrupt', 'callback'] as const) {
    it(`abort by '${cause}', then await close(): the script exits with code 0`, async () => {
      const r = await runNode([...SOURCE, fixture('abort-then-close.ts'), cause], { timeoutMs: CHILD_MS });
      expect(r.timedOut).toBe(false);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^aborted: /m);
      expect(r.stdout).toMatch(/^closed, 0 workers left$/m);
    });
  }
});

describe('workers get only the flags they need', () => {
  it('a session runs under node --expose-gc', async () => {
    const r = await runNode(['--expose-gc', ...SOURCE, fixture('plain-session.ts')], { timeoutMs: CHILD_MS });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^product: 6 -0\.5$/m);
  });

  it('a session runs under node --input-type=module -e', async () => {
    const entry = pathToFileURL(fixture('../../src/index.ts')).href;
    const code = [
      `import { SmpcSession } from ${JSON.stringify(entry)};`,
      `const s = await SmpcSession.start({ parties: 3, protocol: 'replicated' });`,
      `const x = await s.share(0, [2, 3]);`,
      `console.log('product: ' + [...(await s.reveal(s.mul(x, x)))].join(' '));`,
      `await s.close();`,
    ].join('\n');
    const r = await runNode([...SOURCE, '--input-type=module', '-e', code], { timeoutMs: CHILD_MS });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^product: 4 9$/m);
  });
});

describe('malicious additive sharing (SPDZ2k) in a plain script', () => {
  for (const cheat of [false, true]) {
    it(`${cheat ? 'a cheating party: the abort is caught, close() settles' : 'an honest run'} and the script exits with code 0`, async () => {
      const entry = pathToFileURL(fixture('../../src/index.ts')).href;
      const fault = cheat ? `, faultInjection: { party: 1, operation: 'mul', kind: 'wrongOpen' }` : '';
      const code = [
        `import { SmpcSession } from ${JSON.stringify(entry)};`,
        `const s = await SmpcSession.start({ parties: 2, protocol: 'additive', security: 'malicious'${fault} });`,
        `try {`,
        `  const x = await s.share(0, [2, -3]);`,
        `  console.log('product: ' + [...(await s.reveal(s.mul(x, x)))].join(' '));`,
        `} catch (e) {`,
        `  console.log('aborted: ' + e.name);`,
        `}`,
        `await s.close();`,
      ].join('\n');
      const r = await runNode([...SOURCE, '--input-type=module', '-e', code], { timeoutMs: CHILD_MS });
      expect(r.timedOut).toBe(false);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(cheat ? /^aborted: ProtocolAbortError$/m : /^product: 4 9$/m);
    });
  }
});

describe('memoryUsage', () => {
  it('reports every party and the dealer; collected is false without --expose-gc; a closed session rejects', async () => {
    const s = await SmpcSession.start({ parties: 3, protocol: 'additive' });
    const x = await s.share(0, new Float64Array(1000).fill(1));
    await s.reveal(s.mul(x, x));
    const m = await s.memoryUsage();
    expect(m.parties).toHaveLength(3);
    expect(m.dealer).not.toBeNull();
    for (const w of [...m.parties, m.dealer ?? { heapUsed: 0, external: -1 }]) {
      expect(w.heapUsed).toBeGreaterThan(0);
      expect(w.external).toBeGreaterThanOrEqual(0);
    }
    expect(m.collected).toBe(typeof (globalThis as { gc?: unknown }).gc === 'function');
    await s.close();
    await expect(s.memoryUsage()).rejects.toBeInstanceOf(ProtocolAbortError);
  });
});
