import type { HistoryRow, RunDetail, RunsBackend, SampleRecord } from '../backend.js';
import { lineChart } from '../chart.js';
import { errorBox, formatDuration, formatNumber, h, message, modelLabel } from '../dom.js';

const POLL_MS = 1000;
const RECENT_STEPS = 100; // the trainer's "last 100 steps" (src/history/recent-loss.ts)
const SAMPLES_SHOWN = 5;

/**
 * One run as it trains: the loss curves (the last 100 steps' mean, the smooth loss, validation),
 * the newest samples, step, epoch, chars/s and ETA, from polling the API every second for the
 * rows after the last one seen. Returns the view and a function that stops the polling.
 */
export function liveView(backend: RunsBackend, name: string): { element: HTMLElement; stop(): void } {
  const stats = h('dl', { id: 'live-stats', class: 'stats' });
  const chart = h('div', { class: 'chart-box' });
  const samples = h('div', { id: 'live-samples', class: 'samples' });
  const error = errorBox();
  const history: HistoryRow[] = [];
  const sampled: SampleRecord[] = [];
  let since = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const show = (detail: RunDetail): void => {
    const { run } = detail;
    const last = history.at(-1);
    stats.dataset.step = String(run.step);
    stats.replaceChildren(...[
      ['state', run.state], ['step', formatNumber(run.step, 0)], ['epoch', formatNumber(run.epoch, 0)],
      ['chars/s', formatNumber(detail.charsPerSec ?? last?.charsPerSec, 0)], ['ETA', run.state === 'training' ? formatDuration(detail.etaSeconds) : '–'],
      ['model', run.cell === null ? modelLabel(run) : `${modelLabel(run)} ${run.dtype}`], ['best val', formatNumber(run.bestValLoss, 4)],
    ].map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', { 'data-stat': term }, value))));
    chart.replaceChildren(lineChart(curves(history), { title: 'Learning curve', xLabel: 'step', yLabel: 'nats per character' }));
    samples.replaceChildren(...sampled.slice(-SAMPLES_SHOWN).reverse().map((s) => h('figure', {}, h('figcaption', {}, `step ${formatNumber(s.step, 0)}, epoch ${s.epoch}`), h('pre', {}, s.text))));
    if (sampled.length === 0) samples.append(h('p', { class: 'note' }, 'No samples yet.'));
  };
  const poll = async (): Promise<void> => {
    try {
      // one step back: a sample of the last step seen may be written just after its row
      const detail = await backend.run(name, Math.max(0, since - 1));
      history.push(...detail.history.filter((row) => row.step > since));
      sampled.push(...detail.samples.filter((s) => s.step > (sampled.at(-1)?.step ?? 0)));
      since = history.at(-1)?.step ?? since;
      error.show(undefined);
      show(detail);
    } catch (problem) {
      error.show(message(problem));
    }
    if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
  };
  void poll();
  const element = h('section', { id: 'live', class: 'view', 'data-run': name }, h('h2', {}, `Live training: ${name}`), error.element, stats, chart, h('h3', {}, 'Newest samples'), samples);
  return { element, stop: () => { stopped = true; clearTimeout(timer); } };
}

/** The three curves: the trailing mean of the last 100 steps' losses, the smooth loss, and validation where it ran. */
export function curves(rows: readonly HistoryRow[]): { label: string; points: [number, number][]; dots?: boolean }[] {
  const recent: [number, number][] = [];
  let sum = 0;
  rows.forEach((row, i) => {
    sum += row.loss;
    if (i >= RECENT_STEPS) sum -= rows[i - RECENT_STEPS].loss;
    recent.push([row.step, sum / Math.min(i + 1, RECENT_STEPS)]);
  });
  const val = rows.filter((row) => typeof row.valLoss === 'number').map((row) => [row.step, row.valLoss as number] as [number, number]);
  return [
    { label: `last ${RECENT_STEPS} steps`, points: recent },
    { label: 'smooth', points: rows.map((row) => [row.step, row.smoothLoss]) },
    { label: 'validation', points: val, dots: true },
  ];
}
