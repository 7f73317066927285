// The fault-injection sweep both malicious modes' tests run: for each operation a party adds an error to one
// message it sends, flips a bit of one, or opens a wrong share; every run must abort with ProtocolAbortError
// whose message names a failed check, and none may reveal a value.
import { seededTestRng } from '@ppml/core';
import { ProtocolAbortError, type FaultInjection, type SecretTensor, type SmpcSession } from '../../src/index.ts';

export type SweepOp = readonly [string, (s: SmpcSession, x: SecretTensor, y: SecretTensor) => SecretTensor];
export interface SweepCase {
  readonly name: string;
  readonly party: number;
  readonly kind: FaultInjection['kind'];
  readonly message: number;
}

/**
 * Five runs per operation: addError and flipBit on the first message the party sends from the start of the
 * operation and on one drawn from a seeded generator in [1, 12) (in [1, 4) for input and reveal, whose runs
 * send fewer messages after it: a tamper that never fires would leave nothing to detect), and a wrong opening.
 */
export function sweepCases(ops: readonly SweepOp[], seed: string, parties: number): SweepCase[] {
  const rng = seededTestRng(seed);
  const pick = (name: string): number => {
    const b = new Uint8Array(1);
    rng.fillBytes(b);
    return 1 + (b[0] % (name === 'input' || name === 'reveal' ? 3 : 11));
  };
  const cases: SweepCase[] = [];
  ops.forEach(([name], i) => {
    for (const kind of ['addError', 'flipBit'] as const) {
      for (const message of [0, pick(name)]) cases.push({ name, party: (i + message) % parties, kind, message });
    }
    cases.push({ name, party: i % parties, kind: 'wrongOpen', message: 0 });
  });
  return cases;
}

/** Runs every case; returns a line for each run that did not abort with a failed check (empty when all did). */
export async function sweepFailures(
  cases: readonly SweepCase[],
  ops: readonly SweepOp[],
  run: (fault: FaultInjection, op: SweepOp[1]) => Promise<unknown>,
): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    const op = (ops.find(([n]) => n === c.name) as SweepOp)[1];
    const r = await run({ party: c.party, operation: c.name, kind: c.kind, ...(c.kind === 'wrongOpen' ? {} : { message: c.message }) }, op);
    const label = `${c.name} party ${c.party} ${c.kind} message ${c.message}`;
    if (!(r instanceof ProtocolAbortError)) {
      out.push(`${label}: ${r instanceof Float64Array ? `revealed ${Array.from(r)}` : String(r)}`);
      continue;
    }
    // The cause is a failed check, not a crash or a timeout.
    if (!/check failed|did not confirm|tampered/.test(r.message)) out.push(`${label}: ${r.message}`);
  }
  return out;
}
