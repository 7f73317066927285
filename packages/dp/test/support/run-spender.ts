/** Runs the ledger spender (`ledger-spender.ts`) in a child process. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs the spender child; resolves with its counts. */
export function runSpender(args: string[]): Promise<{ accepted: number; refused: number }> {
  const node = process.execPath;
  const script = join(import.meta.dirname, 'ledger-spender.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--conditions=@ppml/source', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as { accepted: number; refused: number });
      else reject(new Error(`spender exited with ${code}: ${err}`));
    });
  });
}
