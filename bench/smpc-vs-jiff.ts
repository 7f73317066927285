// ppml's secret-shared computation against JIFF, the only other JavaScript MPC library, measured in one run on
// the same machine. Runs `bench/smpc.ts` (3 parties on worker threads, 10^6 elements: fixed-point
// multiplications with truncation, comparisons, logistic-regression inference) and then `bench/jiff/run.cjs`
// (jiff-mpc: 3 parties and its relay server on the loopback interface, the server as crypto provider, a few
// hundred multiplications and a few comparisons, sized to finish in seconds), one after the other so they never
// compete for the cores, and prints both with the ratio ppml / JIFF. JIFF lives in its own package under
// bench/jiff, installed with npm on first use, so it is never a dependency of the ppml packages.
//
// JIFF's multiplication here is its integer `smult` in Z_p (no truncation), which is cheaper than the fixed-point
// multiplication ppml times, so the multiplication ratio understates ppml's advantage.
//
// Usage (repository root): node_modules/.bin/node bench/smpc-vs-jiff.ts
// Exit code: 0 when both halves ran and were correct, 1 otherwise (the half that ran is still printed).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const jiffDir = `${benchDir}jiff`;
const smpcScript = `${benchDir}smpc.ts`;
const jiffScript = `${jiffDir}/run.cjs`;
const PPML_TIMEOUT_S = 900;
const JIFF_TIMEOUT_S = 150; // run.cjs stops itself after 90 s; this only guards against a wedged process

type Metrics = Record<string, unknown>;

interface Half {
  readonly metrics: Metrics | null;
  readonly problem: string | null;
}

/** Runs a child process, echoing its output, and returns the JSON after the last `${prefix} ` line. */
function runChild(label: string, args: readonly string[], cwd: string, prefix: string, timeoutS: number): Promise<Half> {
  return new Promise((resolve) => {
    console.log(`\n== ${label}: ${[process.execPath, ...args].join(' ')}`);
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('error', (error: Error) => {
      clearTimeout(timer);
      resolve({ metrics: null, problem: `${label} could not start: ${error.message}` });
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const line = output
        .split('\n')
        .filter((l) => l.startsWith(`${prefix} `))
        .at(-1);
      let metrics: Metrics | null = null;
      let problem: string | null = null;
      if (line !== undefined) {
        try {
          const parsed: unknown = JSON.parse(line.slice(prefix.length + 1));
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) metrics = parsed as Metrics;
          else problem = `${label}: ${prefix} is not a JSON object`;
        } catch (error) {
          problem = `${label}: cannot parse ${prefix} (${(error as Error).message})`;
        }
      } else {
        problem = `${label} printed no ${prefix} line`;
      }
      if (timedOut) problem = `${label} exceeded ${timeoutS} s and was stopped`;
      else if (code !== 0) problem = `${label} exited with ${code === null ? `signal ${signal}` : `code ${code}`}`;
      if (metrics !== null && metrics['correct'] === false) problem ??= `${label} reported wrong results`;
      resolve({ metrics, problem });
    });
  });
}

function num(metrics: Metrics | null, key: string): number | null {
  const v = metrics?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function fmt(v: number | null): string {
  if (v === null) return 'missing';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(3);
}

function ensureJiffInstalled(): string | null {
  if (existsSync(`${jiffDir}/node_modules/jiff-mpc/package.json`)) return null;
  console.log('bench/jiff/node_modules is missing: npm install --no-audit --no-fund (bench/jiff)');
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: jiffDir, stdio: 'inherit' });
  if (npm.error !== undefined) return `npm could not start: ${npm.error.message}`;
  if (npm.status !== 0) return `npm install in bench/jiff failed with code ${npm.status}`;
  return null;
}

console.log(`ppml SMPC vs JIFF on Node ${process.version}`);
if (Number(process.versions.node.split('.')[0]) < 24) {
  console.warn(`warning: Node ${process.version}; ppml needs Node 24 (run node_modules/.bin/node from the repository root)`);
}

const ppml: Half = existsSync(smpcScript)
  ? await runChild(
      'ppml (bench/smpc.ts)',
      // Run the workspace packages from src/ (their "@ppml/source" export condition), so no build is needed.
      [...process.execArgv, '--conditions=@ppml/source', smpcScript],
      root,
      'SMPC_RESULTS',
      PPML_TIMEOUT_S,
    )
  : { metrics: null, problem: 'bench/smpc.ts does not exist' };

const installProblem = ensureJiffInstalled();
const jiff: Half =
  installProblem === null
    ? await runChild('JIFF (bench/jiff/run.cjs)', [jiffScript], jiffDir, 'JIFF_RESULTS', JIFF_TIMEOUT_S)
    : { metrics: null, problem: installProblem };

interface Row {
  readonly label: string;
  readonly ppml: number | null;
  readonly jiff: number | null;
}
const rows: Row[] = [
  { label: 'multiplications / s', ppml: num(ppml.metrics, 'mulPerSec'), jiff: num(jiff.metrics, 'mulPerSec') },
  { label: 'comparisons / s', ppml: num(ppml.metrics, 'cmpPerSec'), jiff: num(jiff.metrics, 'cmpPerSec') },
  { label: 'LR inference rows / s (20 features)', ppml: num(ppml.metrics, 'lrRowsPerSec'), jiff: null },
];

const header = ['', 'ppml', 'JIFF', 'ppml / JIFF'];
const table = rows.map((r) => {
  const ratio = r.ppml !== null && r.jiff !== null && r.jiff > 0 ? r.ppml / r.jiff : null;
  return [r.label, fmt(r.ppml), r.jiff === null && r.label.startsWith('LR') ? 'n/a' : fmt(r.jiff), ratio === null ? '' : `${fmt(ratio)}x`];
});
const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => (row[c] ?? '').length)));
const line = (cells: readonly string[]): string =>
  cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
console.log('\n== ppml vs JIFF (3 parties, same machine, same run)');
console.log(line(header));
for (const row of table) console.log(line(row));
const jm = jiff.metrics;
if (jm !== null) {
  console.log(
    `JIFF ${String(jm['jiffVersion'])}: smult on ${String(jm['mulN'])} and slt on ${String(jm['cmpN'])} integer pairs in Z_p, ` +
      `p = ${String(jm['zp'])}, server as crypto provider. Each party sends its relay, per op: ` +
      `mul ${fmt(num(jm, 'mulBytesSentPerPartyPerOp'))} B in ${fmt(num(jm, 'mulMessagesSentPerPartyPerOp'))} messages, ` +
      `cmp ${fmt(num(jm, 'cmpBytesSentPerPartyPerOp'))} B in ${fmt(num(jm, 'cmpMessagesSentPerPartyPerOp'))} messages.`,
  );
}
if (jm !== null && typeof jm['capped'] === 'string') {
  console.log(`JIFF stopped at its per-phase time cap in the ${jm['capped']} phase; that rate comes from the pilot run.`);
}
if (ppml.problem !== null) console.log(`ppml half missing or failed: ${ppml.problem}`);
if (jiff.problem !== null) console.log(`JIFF half missing or failed: ${jiff.problem}`);
console.log(
  `SMPC_VS_JIFF ${JSON.stringify({
    ppml: ppml.metrics,
    jiff: jiff.metrics,
    mulRatio: rows[0]?.ppml != null && rows[0].jiff != null ? rows[0].ppml / rows[0].jiff : null,
    cmpRatio: rows[1]?.ppml != null && rows[1].jiff != null ? rows[1].ppml / rows[1].jiff : null,
    problems: [ppml.problem, jiff.problem].filter((p) => p !== null),
  })}`,
);
process.exit(ppml.problem === null && jiff.problem === null ? 0 : 1);
