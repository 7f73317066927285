// `pnpm run release:check`: what must hold before the packages are published. The four packages carry one
// version (valid semver) that the changelog names; LICENSE is the same Apache-2.0 text at the root and in every
// package; then the tests that look at the packages as a stranger gets them: the packed tarballs (contents,
// rewritten ranges, one real call per package from plain npm installs, a consumer type-checked under NodeNext
// and Bundler, Node 22 for the packages that claim it) and the READMEs' examples run as written.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const packages = ['core', 'dp', 'he', 'smpc'];
const problems: string[] = [];

const versions = packages.map(
  (p) => (JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8')) as { version: string }).version,
);
const version = versions[0] as string;
if (versions.some((v) => v !== version))
  problems.push(`packages carry different versions: ${packages.map((p, i) => `${p} ${versions[i]}`).join(', ')}`);
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) problems.push(`version ${version} is not semver`);
const changelog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
if (!changelog.includes(`## [${version}]`)) problems.push(`CHANGELOG.md has no "## [${version}]" section`);

const license = readFileSync(join(root, 'LICENSE'), 'utf8');
if (!license.includes('Apache License') || !license.includes('Version 2.0')) problems.push('LICENSE is not the Apache-2.0 text');
for (const p of packages) {
  if (readFileSync(join(root, 'packages', p, 'LICENSE'), 'utf8') !== license) problems.push(`packages/${p}/LICENSE differs from LICENSE`);
}

for (const problem of problems) console.error(`release check: ${problem}`);
const tests = spawnSync(join(root, 'node_modules/.bin/vitest'), ['run', 'test/pack.test.ts', 'test/readme.test.ts'], {
  cwd: root,
  stdio: 'inherit',
});
const ok = problems.length === 0 && tests.status === 0;
console.log(ok ? `release check passed for version ${version}` : 'release check failed');
process.exit(ok ? 0 : 1);
