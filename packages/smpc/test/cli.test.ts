// The set-up command: `ppml-smpc keygen --out DIR` writes a key and a self-signed certificate whose fingerprint
// it prints; the key file is private to its owner; an existing key is never overwritten silently.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { certificateFingerprint } from '../src/index.ts';

const BIN = fileURLToPath(new URL('../bin/ppml-smpc.js', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ppml-smpc keygen', () => {
  it('writes key.pem (0600), cert.pem and fingerprint.txt and prints the certificate fingerprint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppml-keygen-'));
    dirs.push(dir);
    const out = join(dir, 'party-a');
    const r = spawnSync(process.execPath, [BIN, 'keygen', '--out', out, '--name', 'hospital-a'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const printed = r.stdout.trim();
    expect(printed).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(certificateFingerprint(readFileSync(join(out, 'cert.pem'), 'utf8'))).toBe(printed);
    expect(readFileSync(join(out, 'fingerprint.txt'), 'utf8').trim()).toBe(printed);
    expect(readFileSync(join(out, 'key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(out, 'key.pem')).mode & 0o077).toBe(0);
    const again = spawnSync(process.execPath, [BIN, 'keygen', '--out', out], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists: refusing to overwrite a key/);
    const usage = spawnSync(process.execPath, [BIN, 'keygen'], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--out DIR is required/);
  });
  it('--force replaces a key with a file private to its owner, whatever the old file allowed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ppml-keygen-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'k'));
    writeFileSync(join(dir, 'k', 'key.pem'), 'old', { mode: 0o644 });
    const lines: string[] = [];
    expect(
      runCli(
        ['keygen', '--out', join(dir, 'k'), '--force'],
        (l) => lines.push(l),
        (l) => lines.push(l),
      ),
    ).toBe(0);
    expect(readFileSync(join(dir, 'k', 'key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(dir, 'k', 'key.pem')).mode & 0o077).toBe(0);
  });
});
