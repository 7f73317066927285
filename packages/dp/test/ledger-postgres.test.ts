/**
 * The PostgreSQL ledger against a real server started here (initdb + postgres on a temporary directory,
 * 127.0.0.1, a free port; as the `postgres` OS user when running as root): two processes spending concurrently
 * never cross the cap together, a restart of the server and of the client keeps every spend, and bad input is
 * refused.
 */
import { seededTestRng } from '@ppml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianEvent } from '../src/accountant/events.ts';
import { createAccountant } from '../src/accountant/registry.ts';
import { openPostgresBudget } from '../src/ledger/postgres.ts';
import { dpCount, dpMean } from '../src/queries/aggregates.ts';
import { PrivacyBudget, PrivacyBudgetExceededError } from '../src/queries/budget.ts';
import { describeQuery } from '../src/queries/describe.ts';
import { dpGroupByCount } from '../src/queries/histogram.ts';
import { dpQuantile } from '../src/queries/quantile.ts';
import { LEDGER_CAPS, LEDGER_SIGMA } from './support/ledger-caps.ts';
import { type PostgresServer, startPostgres } from './support/postgres.ts';
import { runSpender } from './support/run-spender.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('openPostgresBudget', () => {
  it('two processes spending concurrently never cross the cap; a server and client restart keeps every spend', async () => {
    const [x, y] = await Promise.all([
      runSpender(['postgres', server.url, 'shared', '40', 'a']),
      runSpender(['postgres', server.url, 'shared', '40', 'b']),
    ]);
    expect(x.accepted + x.refused).toBe(40);
    expect(y.accepted + y.refused).toBe(40);
    await server.restart();
    const budget = await openPostgresBudget({ connection: server.url, name: 'shared', ...LEDGER_CAPS });
    const ledger = budget.ledger;
    expect(ledger).toHaveLength(x.accepted + y.accepted);
    expect(new Set(ledger.map((e) => e.label)).size).toBe(ledger.length);
    // Recomposed independently of the budget: the accepted spends fit, one more would not, and it is refused.
    const acc = createAccountant('pld');
    for (const e of ledger) acc.compose(e.event);
    expect(acc.getEpsilon(LEDGER_CAPS.delta)).toBeLessThanOrEqual(LEDGER_CAPS.epsilon);
    expect(acc.compose(gaussianEvent(LEDGER_SIGMA)).getEpsilon(LEDGER_CAPS.delta)).toBeGreaterThan(LEDGER_CAPS.epsilon);
    await expect(budget.spend({ event: gaussianEvent(LEDGER_SIGMA) }, 'one more')).rejects.toThrow(PrivacyBudgetExceededError);
    await budget.close();
    await budget.close(); // idempotent
    await expect(budget.spend({ epsilon: 0.1 })).rejects.toThrow(/closed/);
  }, 60_000);

  it('records label, amounts, event and time; refuses changed caps and bad input', async () => {
    const a = await openPostgresBudget({ connection: server.url, name: 'census', epsilon: 1, accountant: 'basic' });
    const before = Date.now();
    const entry = await a.spend({ epsilon: 0.75 }, 'count');
    await expect(a.run({ epsilon: 0.5 }, 'too much', () => 1)).rejects.toThrow(PrivacyBudgetExceededError);
    expect(await a.run({ epsilon: 0.25 }, 'rest', () => 42)).toBe(42);
    await a.close();
    const b = await openPostgresBudget({
      connection: { host: '127.0.0.1', port: server.port, user: server.user, database: 'postgres' },
      name: 'census',
      epsilon: 1,
      accountant: 'basic',
    });
    expect(b.ledger.map((e) => e.label)).toEqual(['count', 'rest']);
    expect(b.ledger[0]).toEqual(entry);
    expect(entry.at).toBeGreaterThanOrEqual(before);
    expect(b.remaining.epsilon).toBe(0);
    await b.close();
    await expect(openPostgresBudget({ connection: server.url, name: 'census', epsilon: 2 })).rejects.toThrow(/caps cannot change/);
    await expect(openPostgresBudget({ connection: 42 as never, epsilon: 1 })).rejects.toThrow(TypeError);
    await expect(openPostgresBudget({ connection: server.url, epsilon: 1, bogus: 1 } as never)).rejects.toThrow(/bogus/);
    await expect(openPostgresBudget({ connection: server.url, epsilon: Number.NaN })).rejects.toThrow(RangeError);
  }, 30_000);

  it('runQuery charges the cost derived from the query itself, in one transaction, before any noise', async () => {
    const budget = await openPostgresBudget({ connection: server.url, name: 'queries', epsilon: 1.5, delta: 1e-6 });
    const ages = Array.from({ length: 300 }, (_, i) => (i * 29) % 95);
    let drawn = 0;
    const inner = seededTestRng(11);
    const rng = {
      fillBytes: (out: Uint8Array) => {
        drawn += out.length;
        inner.fillBytes(out);
      },
      nextUint32: () => {
        drawn += 4;
        return inner.nextUint32();
      },
    };
    const n = await budget.runQuery(dpCount, ages, { epsilon: 0.5, rng });
    expect(Number.isInteger(n)).toBe(true);
    const median = await budget.runQuery(dpQuantile, ages, { q: 0.5, lower: 0, upper: 100, epsilon: 0.25, label: 'median age', rng });
    expect(median).toBeGreaterThanOrEqual(0);
    const groups = await budget.runQuery(
      dpGroupByCount,
      ages.map((a) => a % 4),
      { epsilon: 0.5, delta: 1e-7, rng },
    );
    expect(groups.counts.size).toBeGreaterThan(0);
    expect(budget.ledger.map((e) => [e.label, e.event])).toEqual([
      ['count', describeQuery(dpCount, ages, { epsilon: 0.5 }).event],
      ['median age', { kind: 'exponential', epsilon: 0.25 }],
      ['group-by count', { kind: 'epsilonDelta', epsilon: 0.5, delta: 1e-7 }],
    ]);
    // Over the cap: refused by the server-side check before the query runs, so no noise is drawn.
    const before = drawn;
    await expect(budget.runQuery(dpMean, ages, { epsilon: 1, lower: 0, upper: 100, rng })).rejects.toThrow(PrivacyBudgetExceededError);
    expect(drawn).toBe(before);
    // Bad calls are refused before anything is recorded.
    await expect(budget.runQuery(dpCount, ages, { epsilon: Number.NaN })).rejects.toThrow(RangeError);
    await expect(budget.runQuery(dpCount, [], { epsilon: 0.1 })).rejects.toThrow(RangeError);
    await expect(budget.runQuery(dpCount, ages, { epsilon: 0.1, budget: new PrivacyBudget({ epsilon: 1 }) })).rejects.toThrow(
      /budget must be omitted/,
    );
    await expect(budget.runQuery(((x: number[]) => x.length) as never, ages as never)).rejects.toThrow(/must be one of/);
    await budget.close();
    // Another replica sees the three spends with their events.
    const replica = await openPostgresBudget({ connection: server.url, name: 'queries', epsilon: 1.5, delta: 1e-6 });
    expect(replica.ledger.map((e) => e.event.kind)).toEqual(['epsilonDelta', 'exponential', 'epsilonDelta']);
    await replica.close();
  }, 30_000);
});
