import asciichart from 'asciichart';
import { streamHasColors } from '../progress/colors.js';
import type { HistoryRow } from './history-row.js';
import { RECENT_LABEL, trailingMeans } from './recent-loss.js';

export interface TerminalChartOptions {
  /** Columns of the whole chart, axis labels and legend included (see chartWidth). */
  readonly width?: number;
  /** Lines of the plot itself. */
  readonly height?: number;
  /** Colors for a terminal; off for pipes and files (see terminalColors). */
  readonly color?: boolean;
}

/** The chart's width where the terminal's is not known. */
export const CHART_WIDTH = 60;
/** The axis labels' columns: '   2.345 ┤'. */
const LABEL_WIDTH = 10;
const MIN_WIDTH = LABEL_WIDTH + 10;

/** Whether a chart printed to `stream` should have colors: a terminal that has them, NO_COLOR unset. */
export function terminalColors(stream: NodeJS.WritableStream): boolean {
  return streamHasColors(stream);
}

/** The width of a chart printed to `stream`: a terminal's, less the column where some terminals would wrap; CHART_WIDTH otherwise. */
export function chartWidth(stream: NodeJS.WritableStream): number {
  const tty = stream as Partial<NodeJS.WriteStream>;
  const columns = tty.isTTY === true ? tty.columns : undefined;
  return typeof columns === 'number' && Number.isFinite(columns) && columns > 0 ? Math.max(MIN_WIDTH, columns - 1) : CHART_WIDTH;
}

/** Each series its own glyph, so that the chart reads without colors; drawn in this order, each over those before. */
const SERIES = {
  smooth: { glyph: '·', tint: asciichart.darkgray, label: "the seed's smooth loss (a 0.999 moving average)" },
  recent: { glyph: '*', tint: asciichart.blue, label: `training loss (${RECENT_LABEL})` },
  val: { glyph: 'o', tint: asciichart.red, label: 'validation loss' },
} as const;

/**
 * A text chart of the training loss (the mean of the last RECENT_STEPS steps), the validation loss
 * at each evaluation and the seed's smooth loss, in nats per character, against steps: one column
 * per group of steps, showing the group's last step, then the steps and a legend; '' when there
 * are no rows. The training and validation losses set the range: the smooth loss, which lags far
 * above them early on, is drawn only where it falls inside.
 */
export function terminalChart(rows: readonly HistoryRow[], { width = CHART_WIDTH, height = 10, color = false }: TerminalChartOptions = {}): string {
  if (rows.length === 0) return '';
  const columns = Math.max(1, Math.min(Math.max(MIN_WIDTH, width) - LABEL_WIDTH, rows.length));
  const recentAt = trailingMeans(rows.map((row) => row.loss));
  const recent: number[] = [];
  const smooth: number[] = [];
  const val: (number | undefined)[] = [];
  for (let c = 0; c < columns; c++) {
    const begin = Math.floor((c * rows.length) / columns);
    const end = Math.floor(((c + 1) * rows.length) / columns);
    recent.push(recentAt[end - 1]);
    smooth.push(rows[end - 1].smoothLoss);
    let evaluated: number | undefined; // the column's last evaluation, if it holds one
    for (let i = begin; i < end; i++) evaluated = rows[i].valLoss ?? evaluated;
    val.push(evaluated);
  }
  const ranged = [...recent, ...val.filter((v) => v !== undefined)];
  const max = Math.max(...ranged);
  const min = Math.min(...ranged);
  const lines = max > min ? height : 1;
  const rowOf = (value: number): number | undefined => {
    const row = lines === 1 ? 0 : Math.round(((max - value) / (max - min)) * (lines - 1));
    return row >= 0 && row < lines ? row : undefined;
  };
  const grid = Array.from({ length: lines }, () => Array.from({ length: columns }, () => ' '));
  const paint = (text: string, tint: string): string => (color ? `${tint}${text}${asciichart.reset}` : text);
  const draw = (values: readonly (number | undefined)[], { glyph, tint }: { glyph: string; tint: string }): void => {
    values.forEach((value, c) => {
      const row = value === undefined || !Number.isFinite(value) ? undefined : rowOf(value);
      if (row !== undefined) grid[row][c] = paint(glyph, tint);
    });
  };
  draw(smooth, SERIES.smooth);
  draw(recent, SERIES.recent);
  draw(val, SERIES.val);
  const label = (row: number): string => (lines === 1 ? max : max - (row * (max - min)) / (lines - 1)).toFixed(3).padStart(LABEL_WIDTH - 2);
  const plot = grid.map((cells, row) => `${label(row)} ┤${cells.join('')}`.trimEnd());

  const first = `step ${rows[0].step}`;
  const last = `${rows[rows.length - 1].step}`;
  const axis = `${' '.repeat(LABEL_WIDTH)}${first}${' '.repeat(Math.max(1, columns - first.length - last.length))}${last}`;
  const hasVal = val.some((v) => v !== undefined);
  const entries = [SERIES.recent, ...(hasVal ? [SERIES.val] : []), SERIES.smooth].map((s) => `${paint(s.glyph, s.tint)} ${s.label}`);
  return [...plot, axis, ...legend(['nats/char:', ...entries], Math.max(MIN_WIDTH, width))].join('\n');
}

/**
 * The legend's entries, as many to a line as fit in `width` columns (colors take none), under the
 * plot; an entry too long for a line of its own is wrapped between words.
 */
function legend(entries: readonly string[], width: number): string[] {
  const visible = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;
  const indent = entries.every((entry) => LABEL_WIDTH + visible(entry) <= width) ? ' '.repeat(LABEL_WIDTH) : '';
  const lines: string[] = [];
  let line = '';
  const add = (text: string, separator: string): void => {
    const joined = line === '' ? `${indent}${text}` : `${line}${separator}${text}`;
    if (line !== '' && visible(joined) > width) {
      lines.push(line);
      line = `${indent}${text}`;
    } else {
      line = joined;
    }
  };
  for (const entry of entries) {
    if (visible(indent) + visible(entry) <= width) {
      add(entry, '  ');
      continue;
    }
    // The glyph stays with the first word.
    const [glyph, first, ...words] = entry.split(' ');
    add(first === undefined ? glyph : `${glyph} ${first}`, '  ');
    for (const word of words) add(word, ' ');
  }
  return [...lines, line];
}
