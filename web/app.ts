import type { ModelBackend, RunsBackend, RunSummary } from './backend.js';
import { h, message, modelLabel } from './dom.js';
import { expectsView } from './views/expects.js';
import { liveView } from './views/live.js';
import { playgroundView } from './views/playground.js';
import { runsView } from './views/runs.js';

type Tab = 'runs' | 'live' | 'playground' | 'expects';
const TITLES: Record<Tab, string> = { runs: 'Runs', live: 'Live training', playground: 'Playground', expects: 'What the model expects' };

/** The served page: four views over the runs of 'char-rnn serve', addressed as #tab/run. */
export function startServedApp(root: HTMLElement, backend: RunsBackend): void {
  const picker = h('select', { id: 'run-picker', 'aria-label': 'run' });
  const main = h('main');
  const nav = h('nav');
  let runs: RunSummary[] = [];
  let stopLive = (): void => {};

  const route = (): { tab: Tab; run: string | undefined } => {
    const [tab, run] = location.hash.slice(1).split('/');
    return { tab: tab in TITLES ? (tab as Tab) : 'runs', run: run === undefined ? undefined : decodeURIComponent(run) };
  };
  const go = (tab: Tab, run = picker.value): void => {
    location.hash = tab === 'runs' ? 'runs' : `${tab}/${encodeURIComponent(run)}`;
  };
  const render = (): void => {
    stopLive();
    stopLive = () => {};
    const { tab, run } = route();
    if (run !== undefined && [...picker.options].some((o) => o.value === run)) picker.value = run;
    nav.replaceChildren(...(Object.keys(TITLES) as Tab[]).map((t) => h('a', { href: '#', class: t === tab ? 'tab active' : 'tab', 'data-tab': t, onclick: (event) => { event.preventDefault(); go(t); } }, TITLES[t])));
    picker.parentElement!.hidden = tab === 'runs';
    const name = run ?? picker.value;
    if (tab === 'runs') main.replaceChildren(runsView(backend, (chosen) => go('live', chosen)));
    else if (name === '') main.replaceChildren(h('p', { class: 'note' }, 'No runs yet: start one with char-rnn train.'));
    else if (tab === 'live') {
      const live = liveView(backend, name);
      stopLive = live.stop;
      main.replaceChildren(live.element);
    } else {
      const model = (): ModelBackend => backend.model(name);
      main.replaceChildren(tab === 'playground' ? playgroundView(model) : expectsView(model));
    }
  };
  picker.addEventListener('change', () => go(route().tab === 'runs' ? 'live' : route().tab));
  root.replaceChildren(h('header', {}, h('h1', {}, 'char-rnn'), nav, h('label', { class: 'picker' }, 'Run ', picker)), main);
  backend.runs().then((list) => {
    runs = list.filter((run) => run.error === undefined);
    picker.replaceChildren(...runs.map((run) => h('option', { value: run.name }, `${run.name} (${modelLabel(run)}, step ${run.step ?? 0})`)));
    render();
  }, (error: unknown) => {
    main.replaceChildren(h('div', { class: 'error', role: 'alert' }, `cannot list the runs: ${message(error)}`));
  });
  addEventListener('hashchange', render);
}

/** The static export's page: one model, run in the page, in the two views that need no server. */
export function startStaticApp(root: HTMLElement, model: ModelBackend, about: string): void {
  const main = h('main');
  const nav = h('nav');
  const render = (): void => {
    const tab: Tab = location.hash === '#expects' ? 'expects' : 'playground';
    nav.replaceChildren(...(['playground', 'expects'] as const).map((t) => h('a', { href: `#${t}`, class: t === tab ? 'tab active' : 'tab', 'data-tab': t }, TITLES[t])));
    main.replaceChildren(tab === 'playground' ? playgroundView(() => model) : expectsView(() => model));
  };
  root.replaceChildren(h('header', {}, h('h1', {}, 'char-rnn'), nav, h('p', { class: 'about', id: 'about' }, about)), main);
  addEventListener('hashchange', render);
  render();
}
