import test from 'ava';
import { chartWidth, terminalChart, type HistoryRow } from '../src/history/index.js';

// Steps 1-200: the loss falls by 0.004 a step from 1.8, the seed's smooth loss lags 0.2 above it,
// and an evaluation every 100 steps gives 1.5 - 0.001 * (step - 1).
const ROWS: HistoryRow[] = Array.from({ length: 200 }, (_, i) => ({
  step: i + 1, epoch: 1, charsSeen: 0, loss: 1.8 - i * 0.004, smoothLoss: 2 - i * 0.004, valLoss: (i + 1) % 100 === 0 ? 1.5 - i * 0.001 : undefined, charsPerSec: 0, wallSeconds: 0,
}));
const LABEL_WIDTH = 10;

/** The plot's cells of one line, without its axis label. */
const cells = (line: string): string => line.slice(LABEL_WIDTH);

test('the training and validation losses set the range; the smooth loss is drawn only inside it', (t) => {
  const chart = terminalChart(ROWS, { width: 50, height: 8 });
  const lines = chart.split('\n');
  const plot = lines.slice(0, 8);
  // 40 columns of 5 steps each show each group's last step: the first column's training loss is
  // the mean of steps 1-5's, 1.8 - 0.004 * 2 = 1.792, above both evaluations.
  t.regex(plot[0], /^\s+1\.792 ┤\*/, chart);
  // The lowest is the last training loss: the mean of steps 101-200's losses, 1.8 - 0.004 * 149.5 = 1.202 (below the last validation loss, 1.301).
  t.regex(plot[7], /^\s+1\.202 ┤/);
  t.true(plot[7].endsWith('*'));
  // The smooth loss starts at 2 - 0.004 * 4 = 1.984, off the chart. A line is (1.792 - 1.202) / 7 =
  // 0.0843 high, so the top line takes values up to 1.792 + 0.0421: column c's smooth loss,
  // 2 - 0.004 * (5c + 4), comes on the chart at c = 8.
  const smoothColumns = plot.flatMap((line) => [...cells(line)].flatMap((cell, c) => (cell === '·' ? [c] : [])));
  t.is(Math.min(...smoothColumns), 8, `columns ${smoothColumns.join(', ')}`);
  // One training mark a column, save where an evaluation's mark lies over it; the evaluations end columns 20 and 40.
  const marks = (glyph: string): number => plot.reduce((n, line) => n + [...cells(line)].filter((cell) => cell === glyph).length, 0);
  t.is(marks('o'), 2);
  t.true(marks('*') >= 38 && marks('*') <= 40, `${marks('*')} training marks`);
  t.regex(lines[8], /^\s+step 1\s+200$/);
});

test('without colors each series has its own glyph, named in the legend; with colors the glyphs stay', (t) => {
  const plain = terminalChart(ROWS, { width: 80 });
  t.false(plain.includes('\x1b'), 'no colors unless asked');
  const legend = plain.split('\n').slice(11).join('\n');
  t.true(legend.includes('* training loss (last 100 steps)'), legend);
  t.true(legend.includes('o validation loss'));
  t.true(legend.includes("· the seed's smooth loss (a 0.999 moving average)"));
  const colored = terminalChart(ROWS, { width: 80, color: true });
  t.true(colored.includes('\x1b[34m*\x1b[0m training loss'));
  t.is(colored.replace(/\x1b\[[0-9;]*m/g, ''), plain, 'colors add nothing else');
  // Without an evaluation, no validation entry.
  t.false(terminalChart(ROWS.map((row) => ({ ...row, valLoss: undefined })), { width: 80 }).includes('validation'));
  t.is(terminalChart([]), '');
});

test('the chart fits the width it is given, and a terminal\'s width, or 60 columns elsewhere', (t) => {
  for (const width of [40, 60, 80, 132]) {
    const lines = terminalChart(ROWS, { width }).split('\n');
    for (const line of lines) t.true(line.length <= width, `${line.length} > ${width}: '${line}'`);
    t.is(lines.find((line) => line.includes('step 1'))?.length, Math.min(width, LABEL_WIDTH + ROWS.length), `the axis spans the plot at ${width} columns`);
  }
  const tty = (columns: number | undefined): NodeJS.WritableStream => ({ isTTY: true, columns }) as unknown as NodeJS.WritableStream;
  t.is(chartWidth(tty(120)), 119, 'a terminal: its width, less the column where some wrap');
  t.is(chartWidth({ isTTY: false, columns: 120 } as unknown as NodeJS.WritableStream), 60, 'a pipe');
  t.is(chartWidth(tty(0)), 60, 'a terminal that gives no width');
  t.is(chartWidth(tty(undefined)), 60);
});
