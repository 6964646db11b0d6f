import asciichart from 'asciichart';
import { streamHasColors } from '../progress/colors.js';
import type { HistoryRow } from './history-row.js';
import { RECENT_LABEL, trailingMeans } from './recent-loss.js';

export interface TerminalChartOptions {
  /** Columns of the plot itself (the axis labels come on top). */
  readonly width?: number;
  readonly height?: number;
  /** Colors for a terminal; off for pipes and files (see terminalColors). */
  readonly color?: boolean;
}

/** Whether a chart printed to `stream` should have colors: a terminal that has them, NO_COLOR unset. */
export function terminalColors(stream: NodeJS.WritableStream): boolean {
  return streamHasColors(stream);
}

/**
 * A small text chart of the training loss (the mean of the last RECENT_STEPS steps), the seed's
 * smooth loss and the validation loss, in nats per character, against steps: one column per group
 * of steps, showing the group's last step, with a legend line; '' when there are no rows.
 */
export function terminalChart(rows: readonly HistoryRow[], { width = 60, height = 10, color = false }: TerminalChartOptions = {}): string {
  if (rows.length === 0) return '';
  const columns = Math.min(width, rows.length);
  const recentAt = trailingMeans(rows.map((row) => row.loss));
  const recent: number[] = [];
  const smooth: number[] = [];
  const valAt: (number | undefined)[] = [];
  let lastVal: number | undefined;
  for (let c = 0; c < columns; c++) {
    const end = Math.floor(((c + 1) * rows.length) / columns);
    const begin = Math.floor((c * rows.length) / columns);
    for (let i = begin; i < end; i++) lastVal = rows[i].valLoss ?? lastVal;
    recent.push(recentAt[end - 1]);
    smooth.push(rows[end - 1].smoothLoss);
    valAt.push(lastVal);
  }
  // Drawn in this order, each over the ones before.
  const series = [smooth, recent];
  const tints = [asciichart.darkgray, asciichart.blue];
  const firstVal = valAt.findIndex((v) => v !== undefined);
  if (firstVal >= 0) {
    // asciichart draws every column: before the first evaluation the validation line hides under the training line.
    series.unshift(valAt.map((v, c) => (c < firstVal ? recent[c] : (v as number))));
    tints.unshift(asciichart.red);
  }
  const all = series.flat();
  const min = Math.min(...all);
  const max = Math.max(...all);
  const plot = asciichart.plot(series, {
    height: max > min ? height : 1, min, max, colors: color ? tints : undefined,
    format: (x: number) => x.toFixed(3).padStart(8),
  });
  const first = rows[0].step;
  const last = rows[rows.length - 1].step;
  const axis = `${' '.repeat(10)}step ${first}${' '.repeat(Math.max(1, columns - `step ${first}`.length - `${last}`.length))}${last}`;
  const paint = (text: string, tint: string): string => (color ? `${tint}${text}${asciichart.reset}` : text);
  // Short enough for an 80-column terminal: nats/char, training loss over the last 100 steps, seed's smooth loss, validation.
  const legend = [
    'nats/char:',
    paint(`── ${RECENT_LABEL}`, asciichart.blue),
    paint('── smooth', asciichart.darkgray),
    ...(firstVal >= 0 ? [paint('── validation', asciichart.red)] : []),
  ];
  return `${plot}\n${axis}\n${' '.repeat(10)}${legend.join('  ')}`;
}
