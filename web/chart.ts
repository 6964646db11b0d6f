/**
 * Line charts as inline SVG: a few hundred lines of vega-lite's output would cost the page a
 * megabyte of bundle, and these charts need only lines, two axes and a legend.
 */
export interface Series {
  readonly label: string;
  readonly points: readonly (readonly [x: number, y: number])[];
  /** Draw the points as dots too (a sparse series, such as validation). */
  readonly dots?: boolean;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { left: 52, right: 12, top: 12, bottom: 36 };
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** About `count` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function label(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${value / 1e6}M`;
  if (abs >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

/** The chart as a figure: an HTML legend, which wraps at any width, over the SVG plot. */
export function lineChart(series: readonly Series[], options: ChartOptions): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'chart-figure';
  const legend = document.createElement('div');
  legend.className = 'chart-legend';
  series.forEach((s, i) => {
    const item = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = COLORS[i % COLORS.length];
    item.append(swatch, s.label);
    legend.append(item);
  });
  const caption = document.createElement('figcaption');
  caption.className = 'chart-title';
  caption.textContent = options.title;
  figure.append(caption, legend, plot(series, options));
  return figure;
}

function plot(series: readonly Series[], options: ChartOptions): SVGSVGElement {
  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', 'aria-label': options.title });
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) {
    svg.append(el('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'no data yet'));
    return svg;
  }
  const [x0, x1] = extent(all.map(([x]) => x));
  const [y0, y1] = extent(all.map(([, y]) => y));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number): number => MARGIN.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  for (const t of ticks(y0, y1)) {
    svg.append(el('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: sy(t), y2: sy(t), class: 'grid' }));
    svg.append(el('text', { x: MARGIN.left - 6, y: sy(t) + 4, 'text-anchor': 'end', class: 'tick' }, label(t)));
  }
  for (const t of ticks(x0, x1)) svg.append(el('text', { x: sx(t), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, label(t)));
  svg.append(el('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'axis-label' }, options.xLabel));
  svg.append(el('text', { x: 12, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})` }, options.yLabel));
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (points.length === 0) return;
    svg.append(el('polyline', { points: points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 1.5 }));
    if (s.dots === true) for (const [x, y] of points) svg.append(el('circle', { cx: sx(x), cy: sy(y), r: 2.5, fill: color }));
  });
  return svg;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}
