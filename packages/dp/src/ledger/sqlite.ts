/**
 * The embedded ledger of a {@link PrivacyBudget}: caps and every spend (label, amounts, privacy event as JSON,
 * time) in a SQLite file through `node:sqlite` (built into Node 24; loaded only when a budget is opened, so the
 * package stays light and browser-safe). A spend runs in `BEGIN IMMEDIATE` ... `COMMIT`: SQLite then holds the
 * database's single write lock from the check to the record (SQLite docs, "Transaction", §2.2), so processes
 * sharing the file are serialized and together never overspend; the spends another process recorded are read
 * inside the same transaction before the check. WAL journaling lets readers proceed meanwhile.
 * @module
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { assertInteger, describeValue } from '@ppml/core';
import type { BudgetCaps, StoredSpend, SyncBudgetStore } from '../queries/budget.ts';
import { capsMismatch, checkBudgetName, SCHEMA_VERSION, type SpendRow, toStoredSpend } from './common.ts';

/** Options of {@link openSqliteStore}. */
interface SqliteStoreOptions {
  readonly path: string;
  readonly name?: string;
  readonly timeoutMs?: number;
  readonly caps: BudgetCaps;
}

/** SQLITE_BUSY (5) and SQLITE_LOCKED (6), with any extended code, from `node:sqlite`. */
function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/**
 * Switches the file to WAL journaling. SQLite answers SQLITE_BUSY at once, without its busy timeout, to one of two
 * connections that both read the file and then both ask for the exclusive lock the switch needs (waiting would
 * deadlock them), as when two processes open a new ledger at the same moment; the statement is then retried
 * after a short pause (which lets the other finish) until `timeoutMs` has passed.
 */
async function useWal(db: DatabaseSync, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let pause = 2; ; pause = Math.min(2 * pause, 50)) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/**
 * Opens the SQLite store of one budget (creating the tables and the budget row if needed).
 * @internal
 * @example
 * ```ts
 * const store = await openSqliteStore({ path: 'budget.db', caps });
 * ```
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SyncBudgetStore> {
  const { path, name = 'default', timeoutMs = 10_000, caps } = options;
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`path must be a non-empty string, got ${describeValue(path)}`);
  checkBudgetName(name);
  assertInteger('timeoutMs', timeoutMs, 0, 2 ** 31 - 1);
  let sqlite: typeof import('node:sqlite');
  try {
    sqlite = await import('node:sqlite');
  } catch (err) {
    throw new TypeError('PrivacyBudget.open needs node:sqlite (Node.js 22.13 or later); it is not available here', { cause: err });
  }
  const db: DatabaseSync = new sqlite.DatabaseSync(path, { timeout: timeoutMs });
  try {
    await useWal(db, timeoutMs);
    db.exec(`CREATE TABLE IF NOT EXISTS ppml_budgets (
      name TEXT PRIMARY KEY, epsilon TEXT NOT NULL, delta TEXT NOT NULL, rho TEXT NOT NULL,
      accountant TEXT NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL)`);
    db.exec(`CREATE TABLE IF NOT EXISTS ppml_spends (
      budget TEXT NOT NULL, seq INTEGER NOT NULL, label TEXT NOT NULL, epsilon REAL NOT NULL, delta REAL NOT NULL,
      rho REAL NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (budget, seq))`);
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare('SELECT epsilon, delta, rho, accountant FROM ppml_budgets WHERE name = ?').get(name) as
        | { epsilon: string; delta: string; rho: string; accountant: string }
        | undefined;
      if (row === undefined) {
        db.prepare('INSERT INTO ppml_budgets VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          name,
          String(caps.epsilon),
          String(caps.delta),
          String(caps.rho),
          caps.accountant,
          SCHEMA_VERSION,
          Date.now(),
        );
      } else {
        const why = capsMismatch(caps, row);
        if (why !== undefined) throw new RangeError(`budget "${name}" in ${path} ${why}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  } catch (err) {
    db.close();
    throw err;
  }
  const select: StatementSync = db.prepare(
    'SELECT label, epsilon, delta, rho, event, at FROM ppml_spends WHERE budget = ? AND seq > ? ORDER BY seq',
  );
  const insert: StatementSync = db.prepare('INSERT INTO ppml_spends VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  let seq = 0;
  let closed = false;
  const open = (): void => {
    if (closed) throw new RangeError(`the privacy budget ledger ${path} is closed`);
  };
  const read = (after: number): StoredSpend[] => {
    const rows = select.all(name, after) as unknown as SpendRow[];
    seq = after + rows.length;
    return rows.map(toStoredSpend);
  };
  return {
    read(after) {
      if (closed) return [];
      return read(after);
    },
    begin(after) {
      open();
      db.exec('BEGIN IMMEDIATE');
      try {
        return read(after);
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    },
    insert(s) {
      open();
      seq += 1;
      insert.run(name, seq, s.label, s.epsilon, s.delta, s.rho, JSON.stringify(s.event), s.at);
    },
    commit() {
      open();
      db.exec('COMMIT');
    },
    rollback() {
      if (closed || !db.isTransaction) return;
      db.exec('ROLLBACK');
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
