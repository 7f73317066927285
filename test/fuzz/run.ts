/**
 * The parent side of the bad-input suite: runs entries in child processes on the workspace Node, each child under
 * a watchdog that kills it when a single case makes no progress for `caseTimeoutMs` (a hang), and restarts a
 * child that died or hung with the next entry, so one crash never hides the entries after it.
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One bad outcome: the entry, the case index, the generated input and what went wrong. */
export interface FuzzFailure {
  readonly entry: string;
  readonly case: number;
  readonly input: string;
  readonly detail: string;
}

/** Options of {@link runEntries}. */
export interface RunOptions {
  readonly seed: number;
  /** Multiplies each entry's number of cases. */
  readonly scale: number;
  /** A case that prints nothing for this long is a hang. */
  readonly caseTimeoutMs: number;
}

const child = fileURLToPath(new URL('./child.ts', import.meta.url));

interface ChildOutcome {
  failures: FuzzFailure[];
  finished: string[];
  /** Set when the child hung or died: the entry that was running. */
  broken?: string;
}

function runChild(names: readonly string[], o: RunOptions): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--conditions=@ppml/source', child, String(o.seed), String(o.scale), ...names], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: ChildOutcome = { failures: [], finished: [] };
    let last: { start: string; case: number; input: string } | undefined;
    let buffer = '';
    let stderr = '';
    let timedOut = false;
    let timer = setTimeout(() => undefined, 0);
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        p.kill('SIGKILL');
      }, o.caseTimeoutMs);
    };
    arm();
    p.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    p.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (!line.startsWith('{')) continue;
        arm();
        const ev = JSON.parse(line) as Record<string, unknown>;
        if (typeof ev['start'] === 'string') last = ev as typeof last;
        else if (typeof ev['fail'] === 'string') {
          out.failures.push({
            entry: ev['fail'],
            case: ev['case'] as number,
            input: ev['input'] as string,
            detail: ev['detail'] as string,
          });
        } else if (typeof ev['done'] === 'string') {
          out.finished.push(ev['done']);
          last = undefined;
        }
      }
    });
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      const running = names.find((n) => !out.finished.includes(n));
      if (running !== undefined) {
        out.broken = running;
        const why = timedOut
          ? `hang: no progress for ${o.caseTimeoutMs} ms`
          : `crash: the process exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        out.failures.push({ entry: running, case: last?.case ?? -1, input: last?.input ?? '(setup)', detail: why });
      }
      resolve(out);
    });
  });
}

/** Runs `names` (in order, in as few children as crashes allow) and returns every failure. */
export async function runEntries(names: readonly string[], o: RunOptions): Promise<FuzzFailure[]> {
  const failures: FuzzFailure[] = [];
  let rest = [...names];
  while (rest.length > 0) {
    const r = await runChild(rest, o);
    failures.push(...r.failures);
    if (r.broken === undefined) break;
    rest = rest.slice(rest.indexOf(r.broken) + 1);
  }
  return failures;
}

/** A readable report of failures, at most `limit` lines per entry. */
export function formatFailures(failures: readonly FuzzFailure[], limit = 3): string {
  const byEntry = new Map<string, FuzzFailure[]>();
  for (const f of failures) byEntry.set(f.entry, [...(byEntry.get(f.entry) ?? []), f]);
  const lines: string[] = [];
  for (const [entry, list] of byEntry) {
    lines.push(`${entry}: ${list.length} failing case(s)`);
    for (const f of list.slice(0, limit)) lines.push(`  #${f.case} ${f.detail}\n    input: ${f.input.slice(0, 300)}`);
  }
  return lines.join('\n');
}
