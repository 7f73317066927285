// The README's quick start runs as written: every ```ts block of its "Quick start" section is saved as a file and
// run by a plain Node 24 process (as a user would run it), which must exit with code 0 and print no error. A
// README example that does not run is a bug. The packages load from their sources through the workspace's
// `@ppml/source` condition, so no build is needed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The ```ts blocks of the section whose heading is `## <title>`. */
function codeBlocks(markdown: string, title: string): string[] {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section "## ${title}"`);
  const next = markdown.indexOf('\n## ', start + 4);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

// The files live inside the workspace (not in a system temp folder) so that `@ppml/*` resolves to the
// workspace packages, as it would to installed ones in a user's project.
const dir = mkdtempSync(join(root, 'test', '.readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```ts block of a package README: its opening example, which must run as written. */
function firstBlock(markdown: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(markdown);
  if (m === null) throw new Error('no ts block');
  return m[1] as string;
}

function runBlock(code: string, name: string): void {
  const file = join(dir, `${name.replace(/\W/g, '-')}.ts`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ['--conditions=@ppml/source', file], { cwd: root, encoding: 'utf8', timeout: 50_000 });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
}

describe('package READMEs', () => {
  it.each(['core', 'dp', 'he', 'smpc'])('the opening example of packages/%s/README.md runs as written', (p) => {
    runBlock(firstBlock(readFileSync(join(root, 'packages', p, 'README.md'), 'utf8')), `package-${p}`);
  });
});

describe('README quick start', () => {
  const blocks = codeBlocks(readFileSync(join(root, 'README.md'), 'utf8'), 'Quick start');

  it('has one block per package', () => {
    expect(blocks.map((b) => /from '(@ppml\/[a-z]+)'/.exec(b)?.[1]).sort()).toEqual(['@ppml/core', '@ppml/dp', '@ppml/he', '@ppml/smpc']);
  });

  it.each(blocks.map((code, i) => ({ code, name: /from '(@ppml\/[a-z]+)'/.exec(code)?.[1] ?? `block ${i}` })))(
    '$name block runs as written',
    ({ code, name }) => runBlock(code, name),
  );
});
