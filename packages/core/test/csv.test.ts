import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnIndex, numericColumn, numericRows, parseCsv } from '../src/index.ts';

function quote(field: string): string {
  return /[",\r\n]/.test(field) || field === '' ? `"${field.replaceAll('"', '""')}"` : field;
}

describe('CSV reader', () => {
  it('round-trips any table written with RFC 4180 quoting', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r\n', ' ', '1') });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 6 }), fc.infiniteStream(field), (cols, nrows, stream) => {
        const it = stream[Symbol.iterator]();
        const next = (): string => it.next().value as string;
        const header = Array.from({ length: cols }, (_, j) => `h${j}`);
        const rows = Array.from({ length: nrows }, () => Array.from({ length: cols }, next));
        const text = [header, ...rows].map((r) => r.map(quote).join(',')).join('\r\n');
        const t = parseCsv(text);
        expect(t.header).toEqual(header);
        expect(t.rows).toEqual(rows);
      }),
      { numRuns: 200 },
    );
  });

  it('reads numeric columns and names a bad cell', () => {
    const t = parseCsv('a,b\n1,2.5\n-3,4e2\n');
    expect(Array.from(numericColumn(t, 'b'))).toEqual([2.5, 400]);
    expect(numericRows(t, ['b', 'a']).map((r) => Array.from(r))).toEqual([
      [2.5, 1],
      [400, -3],
    ]);
    expect(columnIndex(t, 'a')).toBe(0);
    expect(() => columnIndex(t, 'c')).toThrow(/column "c" is not in the header \(a, b\)/);
    expect(() => numericColumn(parseCsv('a\nx\n'), 'a')).toThrow(/row 1 is not a finite number/);
  });

  it('rejects ragged rows and unterminated quotes', () => {
    expect(() => parseCsv('a,b\n1\n')).toThrow(/data row 1 has 1 fields, the header has 2/);
    expect(() => parseCsv('a\n"x\n')).toThrow(/unterminated/);
    expect(() => parseCsv('')).toThrow(/no header/);
  });
});
