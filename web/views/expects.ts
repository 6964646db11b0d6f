import { BackendError, LIMITS, type ModelBackend, type Score } from '../backend.js';
import { errorBox, formatNumber, h, message } from '../dom.js';

const SAMPLE_TEXT = 'The quick brown fox jumps over the lazy dog.';
/** Shading saturates here: a character this surprising or more is the darkest. */
const MAX_BITS = 10;

/**
 * Text typed or pasted, each character shaded by its surprise (-log2 p, bits); pointing at one
 * shows the five characters the model thought likeliest next, and the mean is what eval prints.
 */
export function expectsView(model: () => ModelBackend): HTMLElement {
  const input = h('textarea', { id: 'score-text', rows: 5, maxLength: LIMITS.scoreText, value: SAMPLE_TEXT });
  const button = h('button', { id: 'score', type: 'submit', class: 'primary' }, 'Shade');
  const mean = h('p', { id: 'mean-bits', class: 'status' });
  const shaded = h('div', { id: 'shaded', class: 'shaded', 'data-state': 'idle' });
  const details = h('div', { id: 'expectation', class: 'expectation' }, 'Point at a character to see what the model expected after it.');
  const error = errorBox();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;

  const shade = async (): Promise<void> => {
    const request = ++latest;
    error.show(undefined);
    input.removeAttribute('aria-invalid');
    shaded.dataset.state = 'running';
    try {
      const score = await model().score(input.value);
      if (request !== latest) return;
      render(score);
      shaded.dataset.state = 'done';
    } catch (problem) {
      if (request !== latest) return;
      error.show(message(problem));
      if (problem instanceof BackendError && problem.field === 'text') input.setAttribute('aria-invalid', 'true');
      shaded.dataset.state = 'error';
    }
  };
  const render = (score: Score): void => {
    mean.textContent = `${score.bitsPerChar.toFixed(4)} bits per character (mean of ${formatNumber(score.predictions, 0)} predictions)`;
    mean.dataset.bitsPerChar = String(score.bitsPerChar);
    mean.dataset.natsPerChar = String(score.natsPerChar);
    const show = (i: number): void => {
      const { char, bits, top } = score.positions[i];
      details.replaceChildren(
        h('p', {}, h('b', {}, visible(char)), bits === null ? ' is read first: it has no prediction.' : ` had ${formatNumber(bits, 2)} bits of surprise. After it the model expected:`),
        h('ol', { class: 'top' }, ...top.map(({ char: next, p }) =>
          h('li', {}, h('code', {}, visible(next)), h('span', { class: 'bar', style: `width:${(100 * p).toFixed(1)}%` }), ` ${formatNumber(100 * p, 1)}%`))));
    };
    shaded.replaceChildren(...score.positions.map(({ char, bits }, i) => {
      const span = h('span', {
        class: char === '\n' ? 'ch newline' : 'ch', tabindex: 0, 'data-bits': bits === null ? '' : String(bits),
        style: `background:${shadeOf(bits)}`, title: bits === null ? 'first character' : `${formatNumber(bits, 2)} bits`,
      }, char === '\n' ? '↵' : char);
      for (const event of ['mouseenter', 'focus', 'click']) span.addEventListener(event, () => show(i));
      return char === '\n' ? h('span', {}, span, h('br')) : span;
    }));
  };

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void shade(), 400);
  });
  const form = h('form', { class: 'controls', onsubmit: (event) => { event.preventDefault(); void shade(); } },
    input, h('div', { class: 'row' }, button, h('span', { class: 'legend-scale' }, 'surprise: ', h('span', { style: `background:${shadeOf(0)}` }, '0'), h('span', { style: `background:${shadeOf(MAX_BITS / 2)}` }, String(MAX_BITS / 2)), h('span', { style: `background:${shadeOf(MAX_BITS)}` }, `${MAX_BITS}+ bits`))));
  const view = h('section', { id: 'expects', class: 'view' }, h('h2', {}, 'What the model expects'), form, error.element, mean, shaded, details);
  queueMicrotask(() => void shade());
  return view;
}

/** White for no surprise to deep red at MAX_BITS and beyond; grey for the first character. */
export function shadeOf(bits: number | null): string {
  if (bits === null) return '#e8e8e8';
  const t = Math.min(1, Math.max(0, bits / MAX_BITS));
  return `hsl(5 85% ${(97 - 50 * t).toFixed(1)}%)`;
}

function visible(char: string): string {
  if (char === '\n') return '↵ (newline)';
  if (char === ' ') return '␣ (space)';
  if (char === '\t') return '⇥ (tab)';
  return char;
}
