// Worker flags (issue 10, item 10): the HE pools used to pass the parent's whole `process.execArgv` to their
// workers, so under `node --expose-gc` starting a pool threw ERR_WORKER_INVALID_EXEC_ARGV. Vitest's own workers
// never run with such flags, so this spawns a plain script under `--expose-gc` and checks its output and exit code.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const node = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url));
const script = fileURLToPath(new URL('./support/exec-argv-pool.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('worker flags', () => {
  it('the server and client pools work when the parent runs under node --expose-gc', async () => {
    const r = await run(['--expose-gc', '--conditions=@ppml/source', script]);
    expect(r.stderr).not.toMatch(/ERR_WORKER_INVALID_EXEC_ARGV/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { rows: number; worst: number };
    expect(out.rows).toBe(2 * 2048 + 5);
    expect(out.worst).toBeLessThan(1e-3);
  }, 90_000);
});
