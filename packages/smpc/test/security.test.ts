// Security properties that can be tested: (1) one party's view (its shares of an input, and the masked values
// it sees opened during a multiplication) is uniformly distributed whatever the input; (2) the coordinating
// thread never receives a share, only acknowledgements and the plaintext that was asked for.
import { describe, expect, it } from 'vitest';
import { chiSquareCritical, chiSquareStatistic } from '../../../test/support/stats.ts';
import { SmpcSession } from '../src/index.ts';
import type { Share } from '../src/protocols/protocol.ts';
import { inProcess } from './support/in-process.ts';

const N = 32_768;
// 8 bytes per element, 256 equally likely values each: under uniformity the statistic is chi-square with 255
// degrees of freedom. alpha = 1e-6 per check; at most 20 checks, so the false-failure rate is below 2e-5 (and
// the generators are seeded, so a run is reproducible).
const CRITICAL = chiSquareCritical(255, 1e-6);

function byteChiSquare(a: BigUint64Array): number {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]++;
  return chiSquareStatistic(counts, new Float64Array(256).fill(bytes.length / 256));
}

async function view(replicated: boolean, input: number, seed: string): Promise<{ shares: Share[]; opened: BigUint64Array }> {
  const run = inProcess(3, replicated, seed);
  try {
    const values = new Float64Array(N).fill(input);
    const shares = await Promise.all(
      run.parties.map((p, i) => p.run(0, { op: 'input', out: 1, owner: 0, count: N, ...(i === 0 ? { values } : {}) })),
    );
    expect(shares.every((s) => s === null)).toBe(true);
    // Record what party 1 receives while the parties multiply x * x (the masked openings).
    const received: Uint8Array[] = [];
    const t1 = run.transports[1];
    const original = t1.receive.bind(t1);
    t1.receive = async (peer, tag) => {
      const b = await original(peer, tag);
      received.push(b.slice());
      return b;
    };
    await Promise.all(run.parties.map((p) => p.run(1, { op: 'mul', out: 2, a: 1, b: 1 })));
    const opened = new BigUint64Array(received.reduce((s, b) => s + b.byteLength, 0) / 8);
    let off = 0;
    for (const b of received) {
      opened.set(new BigUint64Array(b.buffer, 0, b.byteLength / 8), off);
      off += b.byteLength / 8;
    }
    return { shares: [run.parties[1].shareOf(1), run.parties[2].shareOf(1)], opened };
  } finally {
    run.close();
  }
}

describe('a single party learns nothing from its view', () => {
  for (const replicated of [false, true]) {
    const name = replicated ? 'replicated' : 'additive';
    it(`${name}: the shares of parties 1 and 2, and the openings party 1 receives, are uniform for input 0 and for input 30000`, async () => {
      for (const input of [0, 30_000]) {
        const { shares, opened } = await view(replicated, input, `${name}-${input}`);
        for (const share of shares) for (const component of share) expect(byteChiSquare(component)).toBeLessThan(CRITICAL);
        expect(opened.length).toBeGreaterThanOrEqual(N);
        expect(byteChiSquare(opened)).toBeLessThan(CRITICAL);
      }
    });
  }
});

describe('the coordinating thread never receives a share', () => {
  it('only acknowledgements, counters and requested plaintext reach it', async () => {
    const seen: { from: number | 'dealer'; message: unknown }[] = [];
    const s = await SmpcSession.start({
      parties: 3,
      protocol: 'additive',
      onWorkerMessage: (from, message) => seen.push({ from, message }),
    });
    try {
      const x = await s.share(0, Float64Array.of(1.5, -2, 3));
      const y = await s.share(1, Float64Array.of(0.5, 4, -1));
      const z = s.relu(s.sub(s.mul(x, y), s.sigmoid(x)));
      const all = await s.reveal(z);
      const only2 = await s.revealTo(2, x);
      const revealed = [all, only2];
      const arrays: ArrayBufferView[] = [];
      const scan = (v: unknown): void => {
        if (ArrayBuffer.isView(v)) arrays.push(v);
        else if (v instanceof ArrayBuffer) throw new Error('raw ArrayBuffer in a message');
        else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) scan((v as Record<string, unknown>)[k]);
      };
      for (const { message } of seen) {
        const type = (message as { type: string }).type;
        expect(['ready', 'progress', 'done', 'result', 'dealt']).toContain(type);
        const before = arrays.length;
        scan(message);
        // Only 'result' messages carry an array, and it is exactly what a reveal returned (plaintext).
        if (type !== 'result') expect(arrays.length).toBe(before);
      }
      expect(arrays.length).toBe(2);
      expect(arrays.every((a) => a instanceof Float64Array)).toBe(true);
      expect(arrays.map((a) => [...(a as Float64Array)])).toEqual(revealed.map((r) => [...r]));
      // The revealTo result came from party 2 alone.
      expect(seen.filter(({ message }) => (message as { type: string }).type === 'result').map(({ from }) => from)).toEqual([0, 2]);
    } finally {
      await s.close();
    }
  });
});
