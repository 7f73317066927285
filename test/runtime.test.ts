import { describe, expect, it } from 'vitest';

describe('workspace runtime', () => {
  it('runs on the pinned Node 24 (node-seal 7 needs WebAssembly exnref)', () => {
    expect(process.version).toBe('v24.21.0');
  });

  it('resolves workspace packages to src/ through the @ppml/source condition', () => {
    const url = import.meta.resolve('@ppml/core');
    expect(url.endsWith('/packages/core/src/index.ts')).toBe(true);
  });
});
