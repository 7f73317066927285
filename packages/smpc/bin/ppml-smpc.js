#!/usr/bin/env node
// Launcher of the `ppml-smpc` command inside this workspace: runs the TypeScript source (Node >= 22.18 strips
// the types) with the package's source condition. A published package links `ppml-smpc` to dist/cli.js instead
// (publishConfig.bin).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--conditions=@ppml/source', cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
