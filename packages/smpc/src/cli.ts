#!/usr/bin/env node
/**
 * The `ppml-smpc` command: set-up for sessions across machines.
 *
 * - `ppml-smpc keygen --out DIR [--name NAME] [--force]`: writes DIR/key.pem (the private key, mode 0600),
 *   DIR/cert.pem (the self-signed certificate) and DIR/fingerprint.txt, and prints the fingerprint that the
 *   other parties pin.
 * - `ppml-smpc fingerprint CERT.pem`: prints a certificate's fingerprint.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { certificateFingerprint, generateIdentity } from './identity.ts';

const USAGE = `usage:
  ppml-smpc keygen --out DIR [--name NAME] [--force]   write DIR/key.pem, DIR/cert.pem, DIR/fingerprint.txt; print the fingerprint
  ppml-smpc fingerprint CERT.pem                       print a certificate's SHA-256 fingerprint`;

/**
 * Runs the command with `args` (without the program name); returns the exit code and writes to `out`/`err`.
 * @example
 * ```ts
 * runCli(['keygen', '--out', 'keys/hospital-a'], console.log, console.error); // 0
 * ```
 */
export function runCli(args: readonly string[], out: (line: string) => void, err: (line: string) => void): number {
  const [command, ...rest] = args;
  try {
    if (command === 'keygen') {
      const { values } = parseArgs({
        args: rest,
        options: { out: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } },
        strict: true,
      });
      if (values.out === undefined) throw new TypeError('--out DIR is required');
      const keyPath = join(values.out, 'key.pem');
      if (existsSync(keyPath) && values.force !== true)
        throw new RangeError(`${keyPath} exists: refusing to overwrite a key (pass --force to replace it)`);
      const id = generateIdentity(values.name === undefined ? {} : { name: values.name });
      mkdirSync(values.out, { recursive: true, mode: 0o700 });
      // `mode` applies only to a new file: a replaced key would keep the old file's (perhaps readable) mode.
      if (values.force === true) rmSync(keyPath, { force: true });
      writeFileSync(keyPath, id.privateKeyPem, { mode: 0o600, flag: 'wx' });
      writeFileSync(join(values.out, 'cert.pem'), id.certificatePem);
      writeFileSync(join(values.out, 'fingerprint.txt'), `${id.fingerprint}\n`);
      out(id.fingerprint);
      return 0;
    }
    if (command === 'fingerprint') {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true });
      if (positionals.length !== 1) throw new TypeError('fingerprint takes one certificate file');
      out(certificateFingerprint(readFileSync(positionals[0] as string, 'utf8')));
      return 0;
    }
    err(USAGE);
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  } catch (e) {
    err(`ppml-smpc: ${(e as Error).message}`);
    return 2;
  }
}

// Run as a program (not imported): `import.meta.main` needs Node 24, so compare paths.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = runCli(process.argv.slice(2), console.log, console.error);
}
