// The examples: every notebook is exactly what its script twin generates (same code, same prose, no outputs,
// cell ids), and a small cross-package pipeline as in the medical example: a model trained by @ppml/dp is
// scored under @ppml/he and under @ppml/smpc, and both agree with the plaintext model. The full examples run
// in `pnpm run demo` and `pnpm run notebooks`.
import { readFileSync } from 'node:fs';
import { numericColumn, numericRows, readCsv, seededTestRng } from '@ppml/core';
import { fitStandardizer, logisticRegression, trainDpSgd } from '@ppml/dp';
import { HeClient, HeServer } from '@ppml/he';
import { SmpcSession, logisticRegressionPredict } from '@ppml/smpc';
import { describe, expect, it } from 'vitest';
import { dataFile } from '../examples/src/files.ts';
import { NOTEBOOK_INSTALL, NOTEBOOK_SETUP, notebookFromTwin, twinsIn } from '../examples/src/twins.ts';

interface Cell {
  cell_type: string;
  id: string;
  source: string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

const notebookDir = new URL('../examples/notebooks/', import.meta.url).pathname;

describe('example notebooks', () => {
  const twins = twinsIn(notebookDir);

  it('has a medical and a financial notebook with twins', () => {
    expect(twins.map((t) => t.twin.split('/').pop())).toEqual(['01-medical.ts', '02-financial.ts']);
  });

  it.each(twins)('$notebook is generated from its twin (run `node examples/src/twins.ts` after editing a twin)', ({ twin, notebook }) => {
    expect(readFileSync(notebook, 'utf8')).toBe(notebookFromTwin(readFileSync(twin, 'utf8')));
  });

  it.each(twins)('$notebook is committed clean, with unique cell ids, the install cell and the setup cell', ({ notebook }) => {
    const cells = (JSON.parse(readFileSync(notebook, 'utf8')) as { cells: Cell[] }).cells;
    const ids = cells.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]{1,64}$/);
    const code = cells.filter((c) => c.cell_type === 'code');
    for (const c of code) {
      expect(c.outputs).toEqual([]);
      expect(c.execution_count).toBeNull();
    }
    // The notebook starts with the install cell, then the setup; every code cell uses public imports only
    // (package names, never repository paths), so the notebook runs outside the repository too.
    expect(code[0].source.join('')).toBe(NOTEBOOK_INSTALL);
    expect(code[1].source.join('')).toBe(NOTEBOOK_SETUP);
    for (const c of code) expect(c.source.join('')).not.toMatch(/packages\/|\/src\/|from '\.{1,2}\//);
  });
});

describe('notebookFromTwin', () => {
  const twin = [
    '// how to run (left out)',
    '//',
    '// # Title',
    '//',
    '// Intro text.',
    '//',
    '// ## Setup',
    "import { x } from './x.ts';",
    '',
    '// ## Part one',
    '// Prose with `code`.',
    'const a = 1;',
    '// an ordinary comment stays in the code',
    'console.log(a);',
  ].join('\n');

  it('turns heading comments into Markdown cells and replaces the setup code', () => {
    const cells = (JSON.parse(notebookFromTwin(twin)) as { cells: Cell[] }).cells;
    expect(cells.map((c) => `${c.cell_type}:${c.id}`)).toEqual([
      'markdown:title-md',
      'markdown:install-md',
      'code:install-code',
      'markdown:setup-md',
      'code:setup-code',
      'markdown:part-one-md',
      'code:part-one-code',
    ]);
    expect(cells[0].source.join('')).toBe('# Title\n\nIntro text.');
    expect(cells[2].source.join('')).toBe(NOTEBOOK_INSTALL);
    expect(cells[4].source.join('')).toBe(NOTEBOOK_SETUP);
    expect(cells[6].source.join('')).toBe('const a = 1;\n// an ordinary comment stays in the code\nconsole.log(a);');
  });

  it('rejects a twin without a title or without a setup section', () => {
    expect(() => notebookFromTwin('const a = 1;')).toThrow(RangeError);
    expect(() => notebookFromTwin('// # Title\nconst a = 1;')).toThrow(/Setup/);
  });
});

describe('cross-package: a DP-SGD model scored under HE and SMPC (Breast Cancer Wisconsin)', () => {
  const table = readCsv(dataFile('breast_cancer.csv'));
  const names = table.header.filter((h) => h !== 'target');
  const raw = numericRows(table, names);
  const y = numericColumn(table, 'target');
  const x = fitStandardizer(raw).transform(raw);
  const result = trainDpSgd({
    model: logisticRegression({ features: names.length }),
    x,
    y,
    epochs: 10,
    batchSize: 128,
    learningRate: 1,
    clipNorm: 1,
    targetEpsilon: 3,
    delta: 1e-5,
    rng: seededTestRng('examples-cross-package'),
  });
  const weights = result.model.layerWeights(0);
  const bias = result.model.layerBias(0)[0];
  const rows = x.slice(0, 40);
  const plain = result.model.predict(rows);

  it('trains a private model that classifies well', () => {
    expect(result.private).toBe(true);
    expect(result.epsilon).toBeLessThanOrEqual(3);
    let correct = 0;
    const p = result.model.predict(x);
    for (let i = 0; i < x.length; i++) if ((p[i] > 0.5 ? 1 : 0) === y[i]) correct++;
    expect(correct / x.length).toBeGreaterThan(0.85);
  });

  it('encrypted scores (client-side sigmoid) equal the plaintext probabilities', async () => {
    const client = await HeClient.create({ polyModulusDegree: 8192, depth: 3, inputBound: 16 });
    const server = await HeServer.create(client.exportEvaluationKeys(), { threads: 1 });
    try {
      const model = server.logisticRegression({ weights, bias, sigmoid: 'client' });
      try {
        const p = client.decryptScores(await model.predict(client.encryptRows(rows)));
        expect(p.length).toBe(rows.length);
        for (let i = 0; i < rows.length; i++) expect(Math.abs(p[i] - plain[i])).toBeLessThan(1e-6);
      } finally {
        model.dispose();
      }
    } finally {
      client.close();
      await server.close();
    }
  });

  it('secret-shared scores equal the plaintext probabilities up to fixed point', async () => {
    const session = await SmpcSession.start({ parties: 2 });
    try {
      const w = await session.share(0, weights, [names.length, 1]);
      const b = await session.share(0, [bias], [1, 1]);
      const xs = await session.share(
        1,
        rows.flatMap((r) => Array.from(r)),
        [rows.length, names.length],
      );
      const p = await session.revealTo(1, logisticRegressionPredict(session, xs, w, b));
      expect(p.length).toBe(rows.length);
      for (let i = 0; i < rows.length; i++) expect(Math.abs(p[i] - plain[i])).toBeLessThan(5e-3);
    } finally {
      await session.close();
    }
  });
});
