// System packages that some tests drive for real: Debian's Chromium (the browser tests; nothing here may download
// a browser build) and PostgreSQL (the persistent privacy ledger). The tests start their own browser and server on
// loopback; this only makes sure the programs exist. Run by `pnpm test` and `.ci/run`: when something is missing
// and we are root with apt-get (as in CI), it installs it; otherwise it says what to install and the tests that need
// it fail with that message rather than being skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

function hasPostgres(): boolean {
  if (onPath('postgres')) return true;
  const base = '/usr/lib/postgresql';
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, 'bin', 'postgres')));
}

/** Debian package names that are missing on this machine. */
export function missingSystemPackages(): string[] {
  const need: string[] = [];
  if (!onPath('chromium')) need.push('chromium');
  if (!hasPostgres()) need.push('postgresql');
  return need;
}

/** Installs what is missing when possible; returns what is still missing. */
export function ensureSystemPackages(): string[] {
  const need = missingSystemPackages();
  if (need.length === 0) return need;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && onPath('apt-get')) {
    console.log(`installing Debian packages the tests need: ${need.join(', ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    if (update.status === 0) {
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], { stdio: 'inherit', env });
    }
  }
  const still = missingSystemPackages();
  if (still.length > 0) {
    console.error(
      `missing system packages: ${still.join(', ')} (install them, e.g. \`sudo apt-get install ${still.join(' ')}\`); the tests that need them will fail`,
    );
  }
  return still;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(ensureSystemPackages().length === 0 ? 0 : 1);
