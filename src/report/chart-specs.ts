import type { TopLevelSpec } from 'vega-lite';
import type { ParamCheck } from '../gradcheck.js';
import { RECENT_LABEL, trailingMeans, type HistoryRow } from '../history/index.js';
import { SMOOTH_LOSS_LABEL } from '../progress/headline.js';

/** Above this many rows the learning curve draws every n-th step (and every evaluation), so the page stays light. */
export const MAX_CURVE_POINTS = 20_000;
/** Groups of steps over which the throughput chart averages. */
const THROUGHPUT_BINS = 100;

export const RECENT_SERIES = `training loss (${RECENT_LABEL})`;
export const SMOOTH_SERIES = SMOOTH_LOSS_LABEL;
export const VAL_SERIES = 'validation loss';
/** Browsers and the PNG renderer both take the first family they have. */
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const CONFIG = { font: FONT, view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14, anchor: 'start' } } as const;
/** The width of report.html's text column (60rem at 16 px): no chart may be wider. */
export const REPORT_COLUMN_PX = 960;
/** Each wide chart's whole width, axes and legend included (autosize 'fit'), a little inside the column. */
const WIDTH = 920;
const FIT = { type: 'fit', contains: 'padding' } as const;
/** Step numbers as 0, 500, 1k, 1.5k ... 10k, 20k: a plain '~s' axis format takes the largest tick's prefix for every tick ('0k', '0.5k'). */
const SI_LABELS = "format(datum.value, '~s')";

export interface LossChart {
  readonly spec: TopLevelSpec;
  /** 1: every logged step is drawn; n: every n-th. */
  readonly stride: number;
}

/**
 * The learning curve, in nats per character against steps: the training loss averaged over the
 * last RECENT_STEPS steps and the seed's smooth loss at every logged step, the validation loss at
 * every evaluation, and a dashed rule where each epoch after the first begins. The training and
 * validation losses set the vertical range.
 */
export function lossChartSpec(rows: readonly HistoryRow[]): LossChart {
  const stride = Math.max(1, Math.ceil(rows.length / MAX_CURVE_POINTS));
  const recent = trailingMeans(rows.map((row) => row.loss));
  const points: { step: number; loss: number; series: string }[] = [];
  rows.forEach((row, i) => {
    if (i % stride === stride - 1 || i === rows.length - 1) {
      points.push({ step: row.step, loss: recent[i], series: RECENT_SERIES }, { step: row.step, loss: row.smoothLoss, series: SMOOTH_SERIES });
    }
  });
  for (const row of rows) if (row.valLoss !== undefined) points.push({ step: row.step, loss: row.valLoss, series: VAL_SERIES });
  const epochs = epochStarts(rows);
  const hasVal = points.some((p) => p.series === VAL_SERIES);
  // The smooth loss lags far above the others early on: the range is theirs, and it is clipped.
  const ranged = points.filter((p) => p.series !== SMOOTH_SERIES).map((p) => p.loss);
  const domain = [Math.min(...ranged), Math.max(...ranged)];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Learning curve', subtitle: `nats per character; ${stride === 1 ? 'every step' : `one step in ${stride}`}` },
    width: WIDTH,
    height: 340,
    autosize: FIT,
    config: CONFIG,
    layer: [
      {
        data: { values: epochs },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'step', type: 'quantitative' } },
      },
      {
        data: { values: epochs },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 4, color: '#666', fontSize: 11 },
        encoding: { x: { field: 'step', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', strokeWidth: 1.5, interpolate: 'linear', clip: true },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step', axis: { labelExpr: SI_LABELS, tickMinStep: 1 } },
          y: { field: 'loss', type: 'quantitative', title: 'loss (nats per character)', scale: { zero: false, domain } },
          color: {
            field: 'series', type: 'nominal',
            scale: {
              domain: [RECENT_SERIES, SMOOTH_SERIES, ...(hasVal ? [VAL_SERIES] : [])],
              range: ['#4c78a8', '#b4b4b4', '#e45756'],
            },
            legend: { orient: 'top', title: null, labelLimit: 400 },
          },
        },
      },
      {
        data: { values: points.filter((p) => p.series === VAL_SERIES) },
        mark: { type: 'point', filled: true, size: 30, color: '#e45756' },
        encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } },
      },
    ],
  };
  return { spec, stride };
}

/** Characters per second, averaged over groups of steps from the rows' characters and training time. */
export function throughputChartSpec(rows: readonly HistoryRow[]): TopLevelSpec | undefined {
  const values: { step: number; rate: number }[] = [];
  const size = Math.max(1, Math.floor(rows.length / THROUGHPUT_BINS));
  for (let i = 0; i + size < rows.length || (i < rows.length - 1 && values.length === 0); i += size) {
    const from = rows[i];
    const to = rows[Math.min(i + size, rows.length - 1)];
    const seconds = to.wallSeconds - from.wallSeconds;
    if (seconds > 0) values.push({ step: to.step, rate: (to.charsSeen - from.charsSeen) / seconds });
  }
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Throughput', subtitle: `characters per second of wall time over groups of ${size} step${size === 1 ? '' : 's'}; a group with an evaluation in it dips` },
    width: WIDTH,
    height: 160,
    autosize: FIT,
    config: CONFIG,
    data: { values },
    mark: { type: 'line', point: values.length < 50, color: '#54a24b' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step', axis: { labelExpr: SI_LABELS, tickMinStep: 1 } },
      y: { field: 'rate', type: 'quantitative', title: 'chars/s', axis: { labelExpr: SI_LABELS } },
    },
  };
}

/** Max absolute error of each parameter's gradient (log scale) against the bound. */
export function gradcheckChartSpec(checks: readonly ParamCheck[], bound: number): TopLevelSpec {
  const values = checks.map((c) => ({ name: c.name, error: Math.max(c.maxAbsError, 1e-16), passed: c.passed ? 'ok' : 'FAIL' }));
  const errors = [...values.map((v) => v.error), bound];
  // A log scale has no zero: the bars rise from a decade below the smallest value.
  const floor = 10 ** Math.floor(Math.log10(Math.min(...errors)) - 1);
  const ceiling = 10 ** Math.ceil(Math.log10(Math.max(...errors)) + 0.01);
  const y = { field: 'error', type: 'quantitative' as const, title: 'max abs error', scale: { type: 'log' as const, domain: [floor, ceiling] }, axis: { format: '.0e' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Gradient check', subtitle: 'max |analytic - numeric| per parameter; the dashed line is the bound' },
    width: 360,
    height: 200,
    config: CONFIG,
    layer: [
      {
        data: { values },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'name', type: 'nominal', title: 'parameter', sort: null, axis: { labelAngle: 0 } },
          y,
          y2: { datum: floor },
          color: { field: 'passed', type: 'nominal', scale: { domain: ['ok', 'FAIL'], range: ['#4c78a8', '#e45756'] }, legend: null },
        },
      },
      {
        data: { values: [{ error: bound }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#e45756' },
        encoding: { y },
      },
    ],
  };
}

/** Steps done when each epoch after the first began. */
function epochStarts(rows: readonly HistoryRow[]): { step: number; label: string }[] {
  const starts: { step: number; label: string }[] = [];
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].epoch !== rows[i - 1].epoch) starts.push({ step: rows[i - 1].step, label: `epoch ${rows[i].epoch}` });
  }
  return starts;
}
