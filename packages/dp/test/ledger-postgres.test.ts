/**
 * The PostgreSQL ledger against a real server started here (initdb + postgres on a temporary directory,
 * 127.0.0.1, a free port; as the `postgres` OS user when running as root): two processes spending concurrently
 * never cross the cap together, a restart of the server and of the client keeps every spend, and bad input is
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianEvent } from '../src/accountant/events.ts';
import { createAccountant } from '../src/accountant/registry.ts';
import { openPostgresBudget } from '../src/ledger/postgres.ts';
import { PrivacyBudgetExceededError } from '../src/queries/budget.ts';
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
    const b = await openPostgresBudget({ connection: { host: '127.0.0.1', port: server.port, user: server.user, database: 'postgres' }, name: 'census', epsilon: 1, accountant: 'basic' });
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
});
