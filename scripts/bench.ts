// Runs every benchmark in bench/ one after another on the workspace Node, so their figures do not compete for
// the machine's cores. Pass names to run a subset: `pnpm run bench dp-accountants he`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const wanted = process.argv.slice(2);
const scripts = readdirSync(`${root}bench`)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .filter((f) => (wanted.length === 0 ? f !== 'smpc.ts' && f !== 'support.ts' : wanted.includes(f.replace(/\.ts$/, ''))));
// (smpc-vs-jiff.ts runs smpc.ts itself, beside the JIFF baseline)
let failed = 0;
for (const file of scripts) {
  console.log(`\n=== bench/${file} ===`);
  const r = spawnSync(process.execPath, ['--conditions=@ppml/source', `bench/${file}`], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
