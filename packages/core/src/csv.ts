/**
 * A small RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF or LF) for the example data sets, plus
 * helpers that turn named columns into typed arrays. Written here rather than taken from a CSV library because
 * it is about a hundred lines, the shipped files are plain, and it keeps `@ppml/core` free of runtime
 * dependencies beyond the two noble packages. `parseCsv` runs everywhere; `readCsv` reads files through the
 * package's `#fs` import, which in a browser bundle is a stand-in that throws a `TypeError` (no file system).
 * @module
 */
import { readTextFile } from '#fs';
import { describeValue } from './validate.ts';

/** A parsed CSV file: the header row and the data rows as strings. */
export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * Parses CSV text with a header row. Every row must have as many fields as the header.
 * @example
 * ```ts
 * const t = parseCsv('a,b\n1,"x,y"\n'); // { header: ['a', 'b'], rows: [['1', 'x,y']] }
 * ```
 */
export function parseCsv(text: string): CsvTable {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${describeValue(text)}`);
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let recordHadQuote = false; // a quoted empty field is data, not a blank line
  let line = 1;
  const n = text.length;
  const endRecord = (): void => {
    record.push(field);
    field = '';
    if (!(record.length === 1 && record[0] === '' && !recordHadQuote)) records.push(record); // skip blank lines
    record = [];
    recordHadQuote = false;
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '') throw new SyntaxError(`CSV line ${line}: a quote may only open a field`);
      quoted = true;
      recordHadQuote = true;
    } else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) throw new SyntaxError(`CSV line ${line}: unterminated quoted field`);
  if (field !== '' || record.length > 0 || recordHadQuote) endRecord();
  const [header, ...rows] = records;
  if (header === undefined) throw new SyntaxError('CSV text has no header row');
  rows.forEach((r, k) => {
    if (r.length !== header.length) {
      throw new SyntaxError(`CSV data row ${k + 1} has ${r.length} fields, the header has ${header.length}`);
    }
  });
  return { header, rows };
}

/**
 * Reads and parses a UTF-8 CSV file with a header row.
 * @example
 * ```ts
 * const table = readCsv(new URL('../data/credit.csv', import.meta.url));
 * ```
 */
export function readCsv(path: string | URL): CsvTable {
  // A number would be read as a file descriptor: only a path or a file URL is a CSV file.
  if (typeof path !== 'string' && !(path instanceof URL)) {
    throw new TypeError(`path must be a string or a URL, got ${describeValue(path)}`);
  }
  return parseCsv(readTextFile(path));
}

function assertTable(table: unknown): asserts table is CsvTable {
  const t = table as Partial<CsvTable> | null;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.header) || !Array.isArray(t.rows)) {
    throw new TypeError(`table must be a CsvTable ({ header, rows }), got ${describeValue(table)}`);
  }
}

/**
 * Index of a named column; throws a `RangeError` listing the available names when it is missing.
 * @example
 * ```ts
 * const j = columnIndex(table, 'credit_amount');
 * ```
 */
export function columnIndex(table: CsvTable, name: string): number {
  assertTable(table);
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${describeValue(name)}`);
  const j = table.header.indexOf(name);
  if (j < 0) throw new RangeError(`column ${JSON.stringify(name)} is not in the header (${table.header.join(', ')})`);
  return j;
}

/**
 * A numeric column as a `Float64Array`; a field that is not a finite number throws with its row.
 * @example
 * ```ts
 * const amounts = numericColumn(table, 'credit_amount');
 * ```
 */
export function numericColumn(table: CsvTable, name: string): Float64Array {
  const j = columnIndex(table, name);
  const out = new Float64Array(table.rows.length);
  table.rows.forEach((r, i) => {
    const s = (r[j] ?? '').trim();
    const v = s === '' ? Number.NaN : Number(s);
    if (!Number.isFinite(v)) throw new RangeError(`column ${name} row ${i + 1} is not a finite number: ${JSON.stringify(s)}`);
    out[i] = v;
  });
  return out;
}

/**
 * Several numeric columns as rows of `Float64Array` (one per data row), in the order of `names`.
 * @example
 * ```ts
 * const x = numericRows(table, ['age', 'duration']);
 * ```
 */
export function numericRows(table: CsvTable, names: readonly string[]): Float64Array[] {
  assertTable(table);
  if (!Array.isArray(names)) throw new TypeError(`names must be an array of column names, got ${describeValue(names)}`);
  const cols = names.map((name) => numericColumn(table, name));
  return table.rows.map((_, i) => Float64Array.from(cols, (c) => c[i]));
}
