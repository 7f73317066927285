/**
 * Child process of the ledger tests: opens a budget (SQLite file or PostgreSQL) and tries `count` Gaussian
 * spends as fast as it can, printing how many were accepted and refused as JSON on stdout.
 * argv: kind ('sqlite' | 'postgres'), target (path or connection string), budget name, count, label prefix.
 */
import { gaussianEvent } from '../../src/accountant/events.ts';
import { openPostgresBudget } from '../../src/ledger/postgres.ts';
import { PrivacyBudget, PrivacyBudgetExceededError } from '../../src/queries/budget.ts';
import { LEDGER_CAPS, LEDGER_SIGMA } from './ledger-caps.ts';

const [kind, target, name, countText, prefix] = process.argv.slice(2);
const count = Number(countText);
let accepted = 0;
let refused = 0;
const cost = { event: gaussianEvent(LEDGER_SIGMA) };
if (kind === 'sqlite') {
  const budget = await PrivacyBudget.open({ path: target, name, ...LEDGER_CAPS });
  for (let i = 0; i < count; i++) {
    try {
      budget.spend(cost, `${prefix}${i}`);
      accepted++;
    } catch (e) {
      if (!(e instanceof PrivacyBudgetExceededError)) throw e;
      refused++;
    }
  }
  budget.close();
} else {
  const budget = await openPostgresBudget({ connection: target, name, ...LEDGER_CAPS });
  for (let i = 0; i < count; i++) {
    try {
      await budget.spend(cost, `${prefix}${i}`);
      accepted++;
    } catch (e) {
      if (!(e instanceof PrivacyBudgetExceededError)) throw e;
      refused++;
    }
  }
  await budget.close();
}
process.stdout.write(JSON.stringify({ accepted, refused }));
