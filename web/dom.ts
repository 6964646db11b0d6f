import type { RunSummary } from './backend.js';

/** A small helper for building elements: h('p', { class: 'note' }, 'text', child). */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (name in element && typeof value !== 'boolean' && !name.startsWith('data-') && name !== 'class' && name !== 'for') (element as unknown as Record<string, unknown>)[name] = value;
    else element.setAttribute(name === 'class' ? 'class' : name, value === true ? '' : String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** A labelled form field. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint === undefined ? null : h('small', {}, hint));
}

/** An error box that a view shows above its output; show(undefined) hides it. */
export function errorBox(): { element: HTMLElement; show(message: string | undefined): void } {
  const element = h('div', { class: 'error', role: 'alert', hidden: true });
  return {
    element,
    show(message) {
      element.textContent = message ?? '';
      element.hidden = message === undefined;
    },
  };
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A run's model as the views name it: 'gru 2 × 128', or what stands in for it before its first checkpoint. */
export function modelLabel(run: RunSummary): string {
  return run.cell === null ? 'no checkpoint yet' : `${run.cell} ${run.layers ?? '?'} × ${run.hidden ?? '?'}`;
}
