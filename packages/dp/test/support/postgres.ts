/**
 * Starts a throwaway PostgreSQL server for a test: initdb on a temporary directory, `postgres` listening on
 * 127.0.0.1 at a free port (and a Unix socket in the same directory), trust authentication for the local
 * superuser. Running as root (CI), both run as the `postgres` OS user (PostgreSQL refuses root) through
 * `runuser`, with the data directory owned by that user. `stop()` shuts the server down and removes the
 * directory; it is idempotent.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PostgresServer {
  readonly port: number;
  readonly user: string;
  /** A connection string for the `postgres` database. */
  readonly url: string;
  /** Stops the server (fast shutdown) and starts it again on the same data directory and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Directory holding initdb and postgres, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/local/bin', '/usr/lib/postgresql/bin'];
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // not a Debian layout
  }
  return dirs.find((d) => d !== '' && existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  const u = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Starts a server; throws when PostgreSQL is missing or does not start within `timeoutMs`. */
export async function startPostgres(timeoutMs = 30_000): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined)
    throw new Error('PostgreSQL binaries (initdb, postgres) not found in PATH, /usr/local/bin or /usr/lib/postgresql/*/bin');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'ppml-pg-'));
  const data = join(dir, 'data');
  let as: string[] = [];
  let user = process.env['USER'] ?? 'postgres';
  if (root) {
    const pgUser = osUser('postgres');
    if (pgUser === undefined) throw new Error('running as root, but there is no postgres OS user to run PostgreSQL as');
    chownSync(dir, pgUser.uid, pgUser.gid);
    as = ['runuser', '-u', 'postgres', '--'];
    user = 'postgres';
  }
  const cmd = (exe: string, args: string[]): [string, string[]] =>
    as.length > 0 ? [as[0], [...as.slice(1), join(bin, exe), ...args]] : [join(bin, exe), args];
  const [initExe, initArgs] = cmd('initdb', ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const init = spawnSync(initExe, initArgs, { encoding: 'utf8', timeout: timeoutMs });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
  }
  let port = await freePort();
  const pgCommand = (): [string, string[]] =>
    cmd('postgres', [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=20',
      '-c',
      'shared_buffers=16MB',
    ]);
  let child: ChildProcess | undefined;
  let exited = true;
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const shutdown = async (): Promise<void> => {
    const c = child;
    if (c === undefined) return;
    // Signal the postmaster itself (its pid is the first line of postmaster.pid): runuser may exit before it.
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      pid = undefined;
    }
    const exitedChild = exited ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
    if (pid !== undefined && pid > 0 && alive(pid)) {
      process.kill(pid, 'SIGINT'); // fast shutdown
      const deadline = Date.now() + 10_000;
      while (alive(pid)) {
        if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 20));
      }
    } else if (!exited) {
      c.kill('SIGINT');
    }
    await exitedChild;
  };
  const launch = async (): Promise<void> => {
    const [pgExe, pgArgs] = pgCommand();
    const c = spawn(pgExe, pgArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    exited = false;
    let log = '';
    c.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    c.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    while (!log.includes('ready to accept connections')) {
      if (exited || Date.now() > deadline) {
        await shutdown();
        throw new Error(`postgres did not start: ${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await shutdown();
    rmSync(dir, { recursive: true, force: true });
  };
  // The port is free when the system hands it out, but another process (a test file running beside this one) may
  // bind it before postgres does: only that failure is retried, on a fresh port.
  for (let tries = 1; ; tries++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (tries < 3 && /Address already in use/.test(String((err as Error).message))) {
        port = await freePort();
        continue;
      }
      await stop();
      throw err;
    }
  }
  return {
    port,
    user,
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    async restart() {
      await shutdown();
      await launch();
    },
    stop,
  };
}
