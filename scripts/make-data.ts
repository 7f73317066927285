// Re-creates the example data sets in examples/data/ from the files Debian ships (no npm package carries them):
// the Breast Cancer Wisconsin (Diagnostic) table from `python3-sklearn` and the Statlog German Credit ARFF from
// `weka`. Both Debian packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` into a temporary
// folder (nothing is installed), the source files are checked against the SHA-256 recorded below, and each is
// converted to a plain RFC 4180 CSV with a header row and LF line endings. Provenance, licence and the conversion
// are described in examples/data/*.SOURCE.md. Running it twice gives byte-identical files.
//
//   pnpm run data            write examples/data/breast_cancer.csv and examples/data/credit-g.csv
//   pnpm run data --check    rebuild in memory and exit 1 if a committed file differs
//
// Needs a Debian bookworm package index (`apt-get update` is run once if `apt-get download` cannot find the
// pinned versions).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'examples', 'data');

/** One Debian package and the file taken from it. */
interface DebianSource {
  readonly pkg: string;
  readonly version: string;
  readonly path: string;
  readonly sha256: string;
}

const SKLEARN_DIR = 'usr/lib/python3/dist-packages/sklearn/datasets';
const BREAST_CANCER: DebianSource = {
  pkg: 'python3-sklearn',
  version: '1.2.1+dfsg-1',
  path: `${SKLEARN_DIR}/data/breast_cancer.csv`,
  sha256: 'fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed',
};
/** scikit-learn's loader, which holds the feature names the CSV itself lacks. */
const SKLEARN_LOADER = `${SKLEARN_DIR}/_base.py`;
const CREDIT_G: DebianSource = {
  pkg: 'weka',
  version: '3.6.14-3',
  path: 'usr/share/doc/weka/examples/credit-g.arff',
  sha256: 'bd94085134e4eb845c96b34c93ed65a223f89d089bacb273ef96f57509ce0bed',
};

function fail(message: string): never {
  throw new Error(message);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function run(cmd: string, args: readonly string[], cwd: string): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  return { ok: r.status === 0, output };
}

/** Downloads the pinned packages into `dir` and unpacks them into `dir/x`; returns the extraction root. */
function fetchPackages(dir: string, sources: readonly DebianSource[]): string {
  const specs = sources.map((s) => `${s.pkg}=${s.version}`);
  let dl = run('apt-get', ['download', ...specs], dir);
  if (!dl.ok) {
    console.log('apt-get download failed; running apt-get update once and retrying');
    const up = run('apt-get', ['update'], dir);
    if (!up.ok) fail(`apt-get update failed (root needed?):\n${up.output}`);
    dl = run('apt-get', ['download', ...specs], dir);
    if (!dl.ok) fail(`apt-get download ${specs.join(' ')} failed (Debian bookworm index needed):\n${dl.output}`);
  }
  const extracted = join(dir, 'x');
  mkdirSync(extracted);
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  if (debs.length !== sources.length) fail(`expected ${sources.length} .deb files, found ${debs.join(', ')}`);
  for (const deb of debs) {
    const x = run('dpkg-deb', ['-x', deb, extracted], dir);
    if (!x.ok) fail(`dpkg-deb -x ${deb} failed:\n${x.output}`);
  }
  return extracted;
}

function readChecked(extracted: string, src: DebianSource): string {
  const file = join(extracted, src.path);
  if (!existsSync(file)) fail(`${src.pkg} ${src.version} has no ${src.path}`);
  const bytes = readFileSync(file);
  const digest = sha256(bytes);
  if (digest !== src.sha256) fail(`${src.path}: SHA-256 ${digest}, expected ${src.sha256}`);
  return bytes.toString('utf8');
}

/** Quotes a CSV field only when RFC 4180 requires it (or when it has edge spaces a reader might trim). */
function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvText(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

// ---------------------------------------------------------------- breast cancer

/** The 30 feature names from `load_breast_cancer` ('mean radius' ... 'worst fractal dimension'), snake_cased. */
function breastCancerFeatureNames(loader: string): string[] {
  const fn = loader.indexOf('def load_breast_cancer(');
  if (fn < 0) fail(`${SKLEARN_LOADER}: load_breast_cancer not found`);
  const block = /feature_names = np\.array\(\s*\[([^\]]*)\]/.exec(loader.slice(fn));
  if (block === null) fail(`${SKLEARN_LOADER}: feature_names list not found in load_breast_cancer`);
  const names = [...block[1].matchAll(/"([^"]+)"/g)].map((m) => m[1].trim().replaceAll(' ', '_'));
  if (names.length !== 30 || names[0] !== 'mean_radius' || names[29] !== 'worst_fractal_dimension') {
    fail(`${SKLEARN_LOADER}: unexpected feature names ${names.join(', ')}`);
  }
  return names;
}

/**
 * scikit-learn's file starts with `n_samples,n_features,class_0,class_1` and then has 30 numbers and a 0/1 label
 * per line. The numbers are kept verbatim (no re-formatting), so the CSV holds exactly the distributed values.
 */
function convertBreastCancer(raw: string, names: readonly string[]): string {
  const lines = raw.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const [nSamples, nFeatures, class0, class1] = lines[0].split(',');
  if (class0 !== 'malignant' || class1 !== 'benign') fail(`breast_cancer.csv: classes ${class0}/${class1}`);
  const n = Number(nSamples);
  const d = Number(nFeatures);
  if (n !== 569 || d !== names.length) fail(`breast_cancer.csv: first line says ${n} x ${d}`);
  if (lines.length - 1 !== n) fail(`breast_cancer.csv: ${lines.length - 1} data lines, header says ${n}`);
  const counts = [0, 0];
  const rows = lines.slice(1).map((line, i) => {
    const fields = line.split(',');
    if (fields.length !== d + 1) fail(`breast_cancer.csv line ${i + 2}: ${fields.length} fields`);
    for (const f of fields.slice(0, d)) if (!NUMBER.test(f)) fail(`breast_cancer.csv line ${i + 2}: '${f}'`);
    const label = fields[d];
    if (label !== '0' && label !== '1') fail(`breast_cancer.csv line ${i + 2}: label '${label}'`);
    counts[Number(label)] += 1;
    return fields;
  });
  if (counts[0] !== 212 || counts[1] !== 357) fail(`breast_cancer.csv: ${counts[0]} malignant / ${counts[1]} benign`);
  return csvText([...names, 'target'], rows);
}

// ---------------------------------------------------------------- ARFF

interface ArffAttribute {
  readonly name: string;
  /** Allowed values for a nominal attribute, `null` for numeric. */
  readonly nominal: readonly string[] | null;
}

const ARFF_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '%': '%' };

/**
 * Splits one ARFF line into tokens: commas, braces and whitespace separate; single- or double-quoted tokens may
 * contain them and use backslash escapes (as Weka's ArffLoader reads them). `%` outside quotes starts a comment.
 */
function arffTokens(line: string, where: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === ',') {
      i += 1;
    } else if (c === '%') {
      break;
    } else if (c === '{' || c === '}') {
      tokens.push(c);
      i += 1;
    } else if (c === "'" || c === '"') {
      let value = '';
      i += 1;
      while (i < line.length && line[i] !== c) {
        if (line[i] === '\\' && i + 1 < line.length) {
          const e = ARFF_ESCAPES[line[i + 1]];
          if (e === undefined) fail(`${where}: unknown escape \\${line[i + 1]}`);
          value += e;
          i += 2;
        } else {
          value += line[i];
          i += 1;
        }
      }
      if (i >= line.length) fail(`${where}: unterminated quote`);
      i += 1;
      tokens.push(value);
    } else {
      let j = i;
      while (j < line.length && !' \t,{}%'.includes(line[j])) j += 1;
      tokens.push(line.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** Reads a dense ARFF file: attribute declarations, then one row per line; checks every value against its type. */
function parseArff(text: string, file: string): { attributes: ArffAttribute[]; rows: string[][] } {
  const attributes: ArffAttribute[] = [];
  const rows: string[][] = [];
  let inData = false;
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const where = `${file} line ${index + 1}`;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('%')) return;
    if (!inData) {
      const keyword = line.split(/\s/, 1)[0].toLowerCase();
      if (keyword === '@relation') return;
      if (keyword === '@data') {
        inData = true;
        return;
      }
      if (keyword !== '@attribute') fail(`${where}: unexpected '${line}'`);
      const [name, ...type] = arffTokens(line.slice(keyword.length), where);
      if (type[0] === '{' && type.at(-1) === '}') {
        attributes.push({ name, nominal: type.slice(1, -1) });
      } else if (type.length === 1 && /^(numeric|real|integer)$/i.test(type[0])) {
        attributes.push({ name, nominal: null });
      } else {
        fail(`${where}: unsupported attribute type '${type.join(' ')}'`);
      }
      return;
    }
    if (line.startsWith('{')) fail(`${where}: sparse ARFF rows are not supported`);
    const values = arffTokens(line, where);
    if (values.length !== attributes.length) fail(`${where}: ${values.length} values, ${attributes.length} attributes`);
    values.forEach((v, k) => {
      const a = attributes[k];
      if (v === '?') fail(`${where}: missing value in ${a.name}`);
      const ok = a.nominal === null ? NUMBER.test(v) : a.nominal.includes(v);
      if (!ok) fail(`${where}: '${v}' is not a valid ${a.name}`);
    });
    rows.push(values);
  });
  return { attributes, rows };
}

function convertCreditG(raw: string): string {
  const { attributes, rows } = parseArff(raw, 'credit-g.arff');
  const names = attributes.map((a) => a.name);
  if (attributes.length !== 21 || names[20] !== 'class') fail(`credit-g.arff: attributes ${names.join(', ')}`);
  if (rows.length !== 1000) fail(`credit-g.arff: ${rows.length} rows`);
  const good = rows.filter((r) => r[20] === 'good').length;
  const bad = rows.filter((r) => r[20] === 'bad').length;
  if (good !== 700 || bad !== 300) fail(`credit-g.arff: ${good} good / ${bad} bad`);
  const numeric = attributes.filter((a) => a.nominal === null).length;
  if (numeric !== 7) fail(`credit-g.arff: ${numeric} numeric attributes, expected 7`);
  return csvText(names, rows);
}

// ---------------------------------------------------------------- main

const check = process.argv.includes('--check');
const work = mkdtempSync(join(tmpdir(), 'ppml-data-'));
try {
  const extracted = fetchPackages(work, [BREAST_CANCER, CREDIT_G]);
  const loader = readFileSync(join(extracted, SKLEARN_LOADER), 'utf8');
  const outputs: Record<string, string> = {
    'breast_cancer.csv': convertBreastCancer(readChecked(extracted, BREAST_CANCER), breastCancerFeatureNames(loader)),
    'credit-g.csv': convertCreditG(readChecked(extracted, CREDIT_G)),
  };
  let differs = false;
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(outputs)) {
    const file = join(outDir, name);
    const rows = text.split('\n').length - 2;
    const summary = `${name}: ${rows} rows, ${Buffer.byteLength(text)} bytes, sha256 ${sha256(text)}`;
    if (check) {
      const same = existsSync(file) && readFileSync(file, 'utf8') === text;
      differs ||= !same;
      console.log(`${same ? 'unchanged' : 'DIFFERS'}  ${summary}`);
    } else {
      writeFileSync(file, text);
      console.log(`wrote  ${summary}`);
    }
  }
  if (differs) process.exitCode = 1;
} catch (error) {
  console.error(`make-data: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
