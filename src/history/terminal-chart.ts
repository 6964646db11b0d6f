import asciichart from 'asciichart';
import type { HistoryRow } from './history-row.js';

export interface TerminalChartOptions {
  /** Characters per sequence: the smooth loss is divided by it to be per character, like the validation loss. */
  readonly seqLength: number;
  /** Columns of the plot itself (the axis labels come on top). */
  readonly width?: number;
  readonly height?: number;
  /** Colors for a terminal; off for pipes and files. */
  readonly color?: boolean;
}

/**
 * A small text chart of the smooth training loss and the validation loss (nats per character)
 * against steps, one column per group of steps, with a legend line; '' when there are no rows.
 */
export function terminalChart(rows: readonly HistoryRow[], { seqLength, width = 60, height = 10, color = false }: TerminalChartOptions): string {
  if (rows.length === 0) return '';
  const columns = Math.min(width, rows.length);
  const smooth: number[] = [];
  const valAt: (number | undefined)[] = [];
  let lastVal: number | undefined;
  for (let c = 0; c < columns; c++) {
    // Column c shows the last row of its group of steps.
    const end = Math.floor(((c + 1) * rows.length) / columns);
    const begin = Math.floor((c * rows.length) / columns);
    for (let i = begin; i < end; i++) lastVal = rows[i].valLoss ?? lastVal;
    smooth.push(rows[end - 1].smoothLoss / seqLength);
    valAt.push(lastVal);
  }
  const series = [smooth];
  const firstVal = valAt.findIndex((v) => v !== undefined);
  if (firstVal >= 0) {
    // asciichart draws every column: before the first evaluation the validation line hides under the training line.
    series.unshift(valAt.map((v, c) => (c < firstVal ? smooth[c] : (v as number))));
  }
  const all = series.flat();
  const min = Math.min(...all);
  const max = Math.max(...all);
  const colors = color ? (firstVal >= 0 ? [asciichart.red, asciichart.blue] : [asciichart.blue]) : undefined;
  const plot = asciichart.plot(series, {
    height: max > min ? height : 1, min, max, colors,
    format: (x: number) => x.toFixed(3).padStart(8),
  });
  const first = rows[0].step;
  const last = rows[rows.length - 1].step;
  const axis = `${' '.repeat(10)}step ${first}${' '.repeat(Math.max(1, columns - `step ${first}`.length - `${last}`.length))}${last}`;
  const paint = (text: string, tint: string): string => (color ? `${tint}${text}${asciichart.reset}` : text);
  const legend = `${' '.repeat(10)}${paint('── smooth training loss', asciichart.blue)}${firstVal >= 0 ? `   ${paint('── validation loss', asciichart.red)}` : ''}   (nats/char)`;
  return `${plot}\n${axis}\n${legend}`;
}
