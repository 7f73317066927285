/**
 * Offline chart rendering for the examples: compiles a Vega-Lite specification to Vega (Satyanarayan et al.,
 * "Vega-Lite: A Grammar of Interactive Graphics", IEEE TVCG 2017) and renders it to an SVG string in Node with
 * Vega's headless view (`renderer: 'none'`), so charts need no browser, no CDN and no network. The SVG can be
 * written to a file next to a script's output or shown inline in a notebook; `renderPng` rasterises it with resvg
 * (a Rust SVG renderer shipped as a prebuilt npm package), because GitHub and several notebook viewers show PNG
 * but not inline SVG or HTML.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec } from 'vega-lite';

/**
 * Renders a Vega-Lite specification to a standalone SVG document string.
 *
 * Data must be inline (`data: { values: [...] }`) or otherwise loadable without network access; the view is
 * finalized after rendering so no timers or listeners are left behind.
 * @param spec - a Vega-Lite top-level specification.
 * @returns the SVG markup, starting with `<svg`.
 * @example
 * ```ts
 * const svg = await renderVegaLiteSvg({
 *   data: { values: [{ eps: 0.1, acc: 0.81 }, { eps: 1, acc: 0.93 }] },
 *   mark: 'line',
 *   encoding: { x: { field: 'eps', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' } },
 * });
 * ```
 */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`spec must be a Vega-Lite specification object, got ${spec === null ? 'null' : typeof spec}`);
  }
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Writes SVG markup to `path` (creating missing parent folders) and returns the path.
 * @param path - destination file, conventionally ending in `.svg`.
 * @param svg - markup from {@link renderVegaLiteSvg}.
 * @returns `path`, for logging.
 * @example
 * ```ts
 * writeSvg('out/accuracy.svg', await renderVegaLiteSvg(spec));
 * ```
 */
export function writeSvg(path: string, svg: string): string {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  if (typeof svg !== 'string' || !svg.trimStart().startsWith('<svg')) {
    throw new TypeError('svg must be SVG markup starting with <svg');
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return path;
}

/**
 * Rasterises SVG markup to PNG bytes at `scale` times its size, on a white background, with the system fonts.
 * @param svg - markup from {@link renderVegaLiteSvg}.
 * @param scale - zoom factor (2 gives sharp images on high-density screens).
 * @returns the PNG file's bytes.
 * @example
 * ```ts
 * writeFileSync('out/chart.png', renderPng(await renderVegaLiteSvg(spec)));
 * ```
 */
export function renderPng(svg: string, scale = 2): Uint8Array {
  if (typeof svg !== 'string' || !svg.trimStart().startsWith('<svg')) {
    throw new TypeError('svg must be SVG markup starting with <svg');
  }
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 8)) throw new RangeError(`scale must be in (0, 8], got ${scale}`);
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: { loadSystemFonts: true } });
  return resvg.render().asPng();
}

/**
 * Writes a chart as `<base>.svg` and `<base>.png` (creating missing parent folders) and returns both paths.
 * @param base - destination path without extension.
 * @param svg - markup from {@link renderVegaLiteSvg}.
 * @returns the two paths written.
 * @example
 * ```ts
 * const [svgPath, pngPath] = writeChart('out/accuracy', await renderVegaLiteSvg(spec));
 * ```
 */
export function writeChart(base: string, svg: string): [string, string] {
  const svgPath = writeSvg(`${base}.svg`, svg);
  const pngPath = `${base}.png`;
  writeFileSync(pngPath, renderPng(svg));
  return [svgPath, pngPath];
}
