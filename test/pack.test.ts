// The packages as a stranger gets them: `pnpm pack` of every package, the tarballs installed with plain npm into
// a scratch project outside the workspace, one real call per package from a plain Node process, and a type check
// of a consumer file under both `moduleResolution: NodeNext` and `Bundler`. Catches what workspace tests cannot:
// a file missing from `files`, a `workspace:` or `catalog:` range left unrewritten, an export that points
// nowhere, types that only resolve through the source condition.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'dp', 'he', 'smpc'] as const;
const scratch = mkdtempSync(join(tmpdir(), 'ppml-pack-'));
const packs = join(scratch, 'packs');
const app = join(scratch, 'app');
let tarballs: Record<string, string> = {};

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

function listTar(file: string): string[] {
  return run('tar', ['-tzf', file], scratch)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^package\//, ''));
}

beforeAll(() => {
  run(join(root, 'node_modules/.bin/tsc'), ['-b'], root);
  for (const p of packages) run('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', p));
  tarballs = Object.fromEntries(readdirSync(packs).map((f) => [/^ppml-([a-z]+)-/.exec(f)?.[1] ?? f, join(packs, f)]));
  writeFileSync(join(scratch, 'package.json'), '{}');
  run('mkdir', ['-p', app], scratch);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...packages.map((p) => tarballs[p] as string),
      '@types/node@24',
    ],
    app,
  );
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('packed tarballs', () => {
  it.each(packages)('@ppml/%s holds exactly dist, README, LICENSE and package.json', (p) => {
    const files = listTar(tarballs[p] as string);
    const top = new Set(files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    const manifest = run('tar', ['-xzOf', tarballs[p] as string, 'package/package.json'], scratch);
    expect(manifest).not.toMatch(/workspace:|catalog:/);
  });

  it('one real call per package runs from a plain Node process', () => {
    const script = `
      import { uniformInt } from '@ppml/core';
      import { laplaceMechanism } from '@ppml/dp';
      import { HeClient, HeServer } from '@ppml/he';
      import { SmpcSession } from '@ppml/smpc';
      const i = uniformInt(10);
      const noisy = laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoise(5);
      const client = await HeClient.create({ inputBound: 4 });
      const server = await HeServer.create(client.exportEvaluationKeys());
      const model = server.logisticRegression({ weights: [1, -1], bias: 0 });
      const [score] = client.decryptScores(await model.predict(client.encryptRows([[0.5, 0.5]])));
      model.dispose(); client.close(); await server.close();
      const session = await SmpcSession.start({ parties: 3, protocol: 'replicated', timeoutMs: 30000 });
      const a = await session.share(0, Float64Array.of(1.5));
      const b = await session.share(1, Float64Array.of(-2));
      const [product] = await session.reveal(session.mul(a, b));
      await session.close();
      console.log(JSON.stringify({ i, noisy, score, product }));
    `;
    writeFileSync(join(app, 'smoke.mjs'), script);
    const r = spawnSync(process.execPath, ['smoke.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { i: number; noisy: number; score: number; product: number };
    expect(out.i).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(out.noisy)).toBe(true);
    expect(Math.abs(out.score - 0.5)).toBeLessThan(1e-3);
    expect(out.product).toBe(-3);
  }, 180_000);

  it('core, dp and smpc run on the oldest Node their engines claim (22.12+: Node 22 LTS)', () => {
    for (const p of ['core', 'dp', 'smpc']) {
      const manifest = JSON.parse(run('tar', ['-xzOf', tarballs[p] as string, 'package/package.json'], scratch)) as {
        engines: { node: string };
      };
      expect(manifest.engines.node).toBe('>=22.12.0');
    }
    const he = JSON.parse(run('tar', ['-xzOf', tarballs['he'] as string, 'package/package.json'], scratch)) as {
      engines: { node: string };
    };
    expect(he.engines.node).toBe('>=24.11.0'); // node-seal 7 needs WebAssembly exnref
    // A second runtime from npm's `node` package (its install script fetches the binary from the npm registry).
    const rt = join(scratch, 'node22');
    run('mkdir', ['-p', rt], scratch);
    writeFileSync(join(rt, 'package.json'), '{}');
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', 'node@22.23.3'], rt);
    const node22 = join(rt, 'node_modules/.bin/node');
    expect(run(node22, ['--version'], app).trim()).toBe('v22.23.3');
    writeFileSync(
      join(app, 'smoke22.mjs'),
      `import { uniformInt } from '@ppml/core';
       import { laplaceMechanism, computeEpsilon } from '@ppml/dp';
       import { SmpcSession } from '@ppml/smpc';
       const noisy = laplaceMechanism({ epsilon: 1, sensitivity: 1 }).addNoise(uniformInt(10));
       const eps = computeEpsilon({ noiseMultiplier: 1, sampleRate: 0.01, steps: 100, delta: 1e-5, accountant: 'rdp' });
       const session = await SmpcSession.start({ parties: 3, protocol: 'replicated', timeoutMs: 30000 });
       const [lt] = await session.reveal(session.lessThan(await session.share(0, Float64Array.of(1)), await session.share(1, Float64Array.of(2))));
       await session.close();
       console.log(JSON.stringify({ noisy, eps, lt, version: process.version }));
      `,
    );
    const r = spawnSync(node22, ['smoke22.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { noisy: number; eps: number; lt: number; version: string };
    expect(out.version).toBe('v22.23.3');
    expect(Number.isFinite(out.noisy)).toBe(true);
    expect(out.eps).toBeGreaterThan(0);
    expect(out.lt).toBe(1);
  }, 180_000);

  it.each(['NodeNext', 'Bundler'])('a consumer type-checks under moduleResolution %s', (resolution) => {
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { type Rng, cryptoRng } from '@ppml/core';
       import { type LaplaceMechanism, laplaceMechanism } from '@ppml/dp';
       import type { HeClient } from '@ppml/he';
       import type { SmpcSession } from '@ppml/smpc';
       const rng: Rng = cryptoRng;
       const m: LaplaceMechanism = laplaceMechanism({ epsilon: 1, sensitivity: 1 });
       export const value: number = m.addNoise(1);
       export type Both = [HeClient, SmpcSession, typeof rng];
      `,
    );
    const module = resolution === 'NodeNext' ? 'NodeNext' : 'ESNext';
    const config = {
      compilerOptions: {
        module,
        moduleResolution: resolution,
        target: 'ES2023',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
        types: ['node'],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(app, `tsconfig.${resolution}.json`), JSON.stringify(config));
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${resolution}.json`], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
