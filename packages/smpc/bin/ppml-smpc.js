#!/usr/bin/env node
// Launcher of the `ppml-smpc` command: the compiled CLI when the package is built, else its TypeScript source
// (Node >= 24 strips the types) with the package's source condition.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/cli.js', import.meta.url);
const args = existsSync(dist)
  ? [fileURLToPath(dist), ...process.argv.slice(2)]
  : ['--conditions=@ppml/source', fileURLToPath(new URL('../src/cli.ts', import.meta.url)), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
