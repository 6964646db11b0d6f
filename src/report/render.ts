import type { TopLevelSpec } from 'vega-lite';
import { importOptional } from '../optional-package.js';

/**
 * The chart as an SVG document, rendered headless by vega (no browser, no canvas). vega and
 * vega-lite are loaded on first use, so that commands that draw nothing do not pay for them.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await importOptional(() => Promise.all([import('vega'), import('vega-lite')]), ['vega', 'vega-lite'], 'the report\'s charts');
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG as a PNG at `scale` times its size, for slides and papers; text uses the system's fonts. */
export async function renderPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await importOptional(() => import('@resvg/resvg-js'), ['@resvg/resvg-js'], 'the report\'s loss.png');
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return resvg.render().asPng();
}
