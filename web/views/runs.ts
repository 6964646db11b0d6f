import type { HistoryRow, RunsBackend, RunSummary } from '../backend.js';
import { lineChart } from '../chart.js';
import { errorBox, formatNumber, h, message } from '../dom.js';

/**
 * Every run, newest first, with its cell, size, step, best validation loss and state; ticking runs
 * overlays their validation curves (their smooth loss where they have no validation yet).
 */
export function runsView(backend: RunsBackend, open: (name: string) => void): HTMLElement {
  const body = h('tbody');
  const chart = h('div', { id: 'compare-chart', class: 'chart-box' });
  const error = errorBox();
  const chosen = new Set<string>();
  const histories = new Map<string, readonly HistoryRow[]>();

  const drawChart = async (): Promise<void> => {
    try {
      for (const name of chosen) if (!histories.has(name)) histories.set(name, (await backend.run(name, 0)).history);
      error.show(undefined);
    } catch (problem) {
      error.show(message(problem));
    }
    const series = [...chosen].filter((name) => histories.has(name)).map((name) => {
      const rows = histories.get(name) ?? [];
      const val = rows.filter((row) => typeof row.valLoss === 'number').map((row) => [row.step, row.valLoss as number] as const);
      return val.length > 0 ? { label: `${name} validation`, points: val, dots: val.length < 30 } : { label: `${name} smooth`, points: rows.map((row) => [row.step, row.smoothLoss] as const) };
    });
    chart.replaceChildren(chosen.size === 0 ? h('p', { class: 'note' }, 'Tick runs to compare their loss curves.') : lineChart(series, { title: 'Loss by run', xLabel: 'step', yLabel: 'nats per character' }));
  };
  const row = (run: RunSummary): HTMLTableRowElement => {
    const tick = h('input', { type: 'checkbox', checked: chosen.has(run.name), 'aria-label': `compare ${run.name}` });
    tick.addEventListener('change', () => {
      if (tick.checked) chosen.add(run.name);
      else chosen.delete(run.name);
      void drawChart();
    });
    const name = h('a', { href: `#live/${encodeURIComponent(run.name)}`, onclick: (event) => { event.preventDefault(); open(run.name); } }, run.name);
    if (run.error !== undefined) return h('tr', { class: 'damaged', 'data-run': run.name }, h('td', {}), h('td', {}, run.name), h('td', { colspan: 6, class: 'error-cell' }, run.error));
    return h('tr', { 'data-run': run.name }, h('td', {}, tick), h('td', {}, name), h('td', {}, run.cell === null ? '–' : `${run.cell} ${run.dtype === 'float32' ? '(float32)' : ''}`),
      h('td', {}, run.layers === null ? '–' : `${run.layers} × ${run.hidden}`), h('td', { class: 'num' }, formatNumber(run.step, 0)), h('td', { class: 'num' }, formatNumber(run.bestValLoss, 4)),
      h('td', {}, h('span', { class: `state ${run.state}` }, run.state)), h('td', {}, run.updatedAt === null ? '–' : new Date(run.updatedAt).toLocaleString()));
  };
  const refresh = async (): Promise<void> => {
    try {
      const runs = await backend.runs();
      if (chosen.size === 0) runs.filter((run) => run.error === undefined).slice(0, 3).forEach((run) => chosen.add(run.name));
      body.replaceChildren(...(runs.length === 0 ? [h('tr', {}, h('td', { colspan: 8 }, 'No runs yet: start one with char-rnn train.'))] : runs.map(row)));
      histories.clear();
      await drawChart();
    } catch (problem) {
      error.show(message(problem));
    }
  };
  void refresh();
  const table = h('table', { id: 'runs-table' }, h('thead', {}, h('tr', {}, ...['', 'run', 'cell', 'size', 'step', 'best val (nats/char)', 'state', 'updated'].map((title) => h('th', {}, title)))), body);
  return h('section', { id: 'runs', class: 'view' }, h('h2', {}, 'Runs'), h('div', { class: 'row' }, h('button', { type: 'button', onclick: () => void refresh() }, 'Refresh')), error.element, h('div', { class: 'table-box' }, table), chart);
}
