/**
 * A privacy budget kept in PostgreSQL, for services with several replicas: caps and every spend (label,
 * amounts, privacy event as JSON, time) in two tables. A spend is one transaction: `SELECT ... FOR UPDATE` on
 * the budget's row (a row lock, PostgreSQL docs §13.3.2), then the spends other replicas recorded are read and
 * composed, the new spend is checked against the caps and inserted, and the transaction commits. Replicas are
 * thereby serialized on the budget and together never overspend; a refused spend inserts nothing. The `pg`
 * client (node-postgres) is loaded on first use, so the package stays light and browser-safe without it.
 * @module
 */
import type { Client, ClientConfig } from 'pg';

/**
 * What the ledger uses of a connected node-postgres client (named here so that the published types do not need
 * `@types/pg`).
 * @example
 * ```ts
 * const rows = (await client.query('SELECT 1 AS one')).rows;
 * ```
 */
export interface PgClient {
  query(text: string, values?: readonly unknown[]): Promise<{ readonly rows: readonly Record<string, unknown>[] }>;
  end(): Promise<void>;
}

/**
 * The connection options passed to node-postgres's `Client` (a subset named here, the rest passed through), so
 * that the published types do not need `@types/pg`.
 * @example
 * ```ts
 * const connection: PostgresConnectionOptions = { host: '127.0.0.1', port: 5432, user: 'dp', database: 'ledger' };
 * ```
 */
export interface PostgresConnectionOptions {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  readonly connectionString?: string;
  readonly ssl?: boolean | Readonly<Record<string, unknown>>;
  readonly connectionTimeoutMillis?: number;
  /** Any other node-postgres client option. */
  readonly [option: string]: unknown;
}
import { assertFunction, assertOptions, describeValue } from '@ppml/core';
import type { AccountantKind } from '../accountant/registry.ts';
import {
  type BudgetAmounts,
  type BudgetEntry,
  BudgetCore,
  type PrivacyBudgetOptions,
  type PrivacyCost,
  checkBudgetOptions,
} from '../queries/budget.ts';
import { prepareChargedQuery } from '../queries/describe.ts';
import { capsMismatch, checkBudgetName, SCHEMA_VERSION, type SpendRow, toStoredSpend } from './common.ts';

/**
 * Options of {@link openPostgresBudget}: the caps (as for `PrivacyBudget`), the connection and the budget name.
 * @example
 * ```ts
 * const o: PostgresBudgetOptions = { connection: 'postgres://ppml@127.0.0.1:5432/ppml', name: 'census', epsilon: 3, delta: 1e-6 };
 * ```
 */
export interface PostgresBudgetOptions extends PrivacyBudgetOptions {
  /** A connection string or a `pg` client configuration (host, port, user, password, database, ssl, ...). */
  readonly connection: string | PostgresConnectionOptions;
  /** Name of the budget (default 'default'); one database can hold several budgets. */
  readonly name?: string;
}

/** A lock id for creating the tables once when several replicas start together (any fixed 64-bit value). */
const SETUP_LOCK = 7_283_640_113;

/**
 * Opens (or creates) a budget in PostgreSQL. Caps given for an existing budget must equal the stored ones.
 * Call `close()` when done.
 * @example
 * ```ts
 * const budget = await openPostgresBudget({ connection: process.env.DATABASE_URL!, name: 'census', epsilon: 3, delta: 1e-6 });
 * await budget.spend({ epsilon: 0.1, delta: 1e-8, event: gaussianEvent(45.94) }, 'sum');
 * await budget.close();
 * ```
 */
export async function openPostgresBudget(options: PostgresBudgetOptions): Promise<PostgresPrivacyBudget> {
  const raw: unknown = options;
  assertOptions('options', raw, ['epsilon', 'delta', 'rho', 'accountant', 'connection', 'name']);
  const { connection, name = 'default' } = options;
  if (!(typeof connection === 'string' || (typeof connection === 'object' && connection !== null && !Array.isArray(connection)))) {
    throw new TypeError(`connection must be a connection string or a pg client configuration, got ${describeValue(connection)}`);
  }
  checkBudgetName(name);
  const caps = checkBudgetOptions({ epsilon: options.epsilon, delta: options.delta, rho: options.rho, accountant: options.accountant });
  let pg: typeof import('pg');
  try {
    pg = await import('pg');
  } catch (err) {
    throw new TypeError('openPostgresBudget needs the pg package (node-postgres)', { cause: err });
  }
  const Client = (pg as unknown as { default?: typeof import('pg') }).default?.Client ?? pg.Client;
  // node-postgres waits forever for a server that accepts but never answers (connectionTimeoutMillis 0): bound it
  // unless the caller chose a limit, so a stalled database is an error, not a hang.
  const config: ClientConfig = typeof connection === 'string' ? { connectionString: connection } : (connection as ClientConfig);
  const client: Client = new Client({ connectionTimeoutMillis: 10_000, ...config });
  // A connection error after connect (server shut down) must not crash the process: it fails the next query.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS ppml_budgets (
        name TEXT PRIMARY KEY, epsilon TEXT NOT NULL, delta TEXT NOT NULL, rho TEXT NOT NULL,
        accountant TEXT NOT NULL, version INTEGER NOT NULL, created_at BIGINT NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ppml_spends (
        budget TEXT NOT NULL REFERENCES ppml_budgets (name), seq INTEGER NOT NULL, label TEXT NOT NULL,
        epsilon DOUBLE PRECISION NOT NULL, delta DOUBLE PRECISION NOT NULL, rho DOUBLE PRECISION NOT NULL,
        event TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (budget, seq))`);
      await client.query('INSERT INTO ppml_budgets VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING', [
        name,
        String(caps.epsilon),
        String(caps.delta),
        String(caps.rho),
        caps.accountant,
        SCHEMA_VERSION,
        Date.now(),
      ]);
      const r = await client.query('SELECT epsilon, delta, rho, accountant FROM ppml_budgets WHERE name = $1', [name]);
      const why = capsMismatch(caps, r.rows[0] as { epsilon: string; delta: string; rho: string; accountant: string });
      if (why !== undefined) throw new RangeError(`budget "${name}" ${why}`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
    const budget = new PostgresPrivacyBudget(client, name, new BudgetCore(caps));
    await budget.refresh();
    return budget;
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
}

/**
 * A privacy budget in PostgreSQL (see the module note). Amounts, caps and errors are those of
 * `PrivacyBudget`; spending is asynchronous. Spends of one object are serialized locally as well.
 * @example
 * ```ts
 * const budget = await openPostgresBudget({ connection, name: 'census', epsilon: 3, delta: 1e-6 });
 * const answer = await budget.runQuery(dpCount, rows, { epsilon: 0.1 }); // spends the query's own event first
 * ```
 */
export class PostgresPrivacyBudget {
  readonly name: string;
  readonly epsilon: number;
  readonly delta: number;
  readonly rho: number;
  readonly accountant: AccountantKind;
  readonly #client: PgClient;
  readonly #core: BudgetCore;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Use {@link openPostgresBudget}. */
  constructor(client: PgClient, name: string, core: BudgetCore) {
    if (!(core instanceof BudgetCore)) throw new TypeError('use openPostgresBudget() to open a PostgreSQL budget');
    this.#client = client;
    this.name = name;
    this.#core = core;
    this.epsilon = core.caps.epsilon;
    this.delta = core.caps.delta;
    this.rho = core.caps.rho;
    this.accountant = core.caps.accountant;
  }

  /** Runs `f` after every earlier operation of this object. */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(f, f);
    this.#queue = next.catch(() => {});
    return next;
  }

  #check(): void {
    if (this.#closed) throw new RangeError(`the PostgreSQL privacy budget "${this.name}" is closed`);
  }

  async #readNewer(): Promise<void> {
    const r = await this.#client.query(
      'SELECT label, epsilon, delta, rho, event, at FROM ppml_spends WHERE budget = $1 AND seq > $2 ORDER BY seq',
      [this.name, this.#core.length],
    );
    for (const row of r.rows as unknown as readonly SpendRow[]) this.#core.replay(toStoredSpend(row));
  }

  /**
   * Reads the spends other replicas recorded (the getters report the state as of the last refresh or spend).
   * @example
   * ```ts
   * await budget.refresh();
   * budget.remaining;
   * ```
   */
  refresh(): Promise<void> {
    return this.#serial(async () => {
      this.#check();
      await this.#readNewer();
    });
  }

  /** Total recorded (as of the last refresh or spend; see `PrivacyBudget.spent`). */
  get spent(): BudgetAmounts {
    return this.#core.spent;
  }

  /** What is left (as of the last refresh or spend; see `PrivacyBudget.remaining`). */
  get remaining(): BudgetAmounts {
    return this.#core.remaining;
  }

  /** Every recorded spend, oldest first (as of the last refresh or spend). */
  get ledger(): readonly BudgetEntry[] {
    return this.#core.ledger;
  }

  /**
   * Checks and records a spend in one transaction holding the budget's row lock; rejects with
   * `PrivacyBudgetExceededError` (recording nothing) when the caps would be exceeded. Await it before computing
   * the noisy answer.
   * @example
   * ```ts
   * await budget.spend({ epsilon: 0.5 }, 'count');
   * ```
   */
  spend(cost: PrivacyCost, label = 'query'): Promise<BudgetEntry> {
    return this.#serial(async () => {
      this.#check();
      const prepared = this.#core.prepare(cost, label);
      const client = this.#client;
      await client.query('BEGIN');
      try {
        await client.query('SELECT name FROM ppml_budgets WHERE name = $1 FOR UPDATE', [this.name]);
        await this.#readNewer();
        const r = this.#core.evaluate(prepared);
        if ('error' in r) throw r.error;
        const at = Date.now();
        await client.query('INSERT INTO ppml_spends VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          this.name,
          this.#core.length + 1,
          label,
          prepared.shown.epsilon,
          prepared.shown.delta,
          prepared.shown.rho,
          JSON.stringify(prepared.event),
          at,
        ]);
        await client.query('COMMIT');
        return r.commit(at);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    });
  }

  /**
   * Spends `cost` first, then runs `compute` and returns its result (the spend stays recorded if `compute` fails).
   * @example
   * ```ts
   * const noisy = await budget.run({ epsilon: 0.1 }, 'sum', () => lap.addNoise(total));
   * ```
   */
  async run<T>(cost: PrivacyCost, label: string, compute: () => T | Promise<T>): Promise<T> {
    assertFunction('compute', compute);
    await this.spend(cost, label);
    return await compute();
  }

  /**
   * Runs a query (`dpCount`, `dpMean`, `dpGroupByCount`, ...) charged to this budget: every check of the call runs,
   * then the cost derived from the query's own event (`describeQuery`, the cost the query itself would spend) is
   * checked and recorded in one transaction, and only then is the query run and its noise drawn. The caller
   * never states the cost, so it cannot mis-state it. The options must not carry a `budget` of their own.
   * @example
   * ```ts
   * const n = await budget.runQuery(dpCount, rows, { epsilon: 0.1 });
   * const median = await budget.runQuery(dpQuantile, ages, { q: 0.5, lower: 0, upper: 120, epsilon: 0.2, label: 'median age' });
   * ```
   */
  async runQuery<A extends unknown[], R>(query: (...args: A) => R, ...args: A): Promise<R> {
    const { description, args: copy } = prepareChargedQuery(query, args);
    await this.spend(description.cost, description.label);
    return query(...copy);
  }

  /**
   * Closes the connection (idempotent).
   * @example
   * ```ts
   * await budget.close();
   * ```
   */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#client.end();
    });
  }
}
