// Runs a script in a child process on the workspace Node, the way a user's plain script runs: no test runner
// keeps the event loop alive, so an unsettled top-level await (exit code 13), a throw escaping a listener or an
// invalid worker flag shows up as the exit code. A watchdog kills a child that hangs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The workspace's pinned Node (the `.bin` shim of the root `node` devDependency). */
export const NODE = fileURLToPath(new URL('../../../../node_modules/.bin/node', import.meta.url));

/** What a child process did. */
export interface ChildResult {
  /** Exit code, or null when the watchdog (or a signal) ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the watchdog killed the child. */
  readonly timedOut: boolean;
}

/** Runs `node <args>` from `cwd` and resolves when it exits or after `timeoutMs` (then it is killed). */
export function runNode(
  args: readonly string[],
  { timeoutMs = 45_000, cwd }: { timeoutMs?: number; cwd?: string } = {},
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** Absolute path of a fixture script in `test/fixtures/`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}
