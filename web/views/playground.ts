import { BackendError, LIMITS, type GenerateRequest, type ModelBackend } from '../backend.js';
import { errorBox, field, formatNumber, h, message } from '../dom.js';

/**
 * Prime, temperature, top-k, top-p, length and seed; Generate streams the text as it is made and
 * Stop ends it. A blank seed becomes a random one that the page shows, so any text can be made again.
 */
export function playgroundView(model: () => ModelBackend): HTMLElement {
  const prime = h('textarea', { id: 'prime', rows: 3, maxLength: LIMITS.prime, placeholder: 'optional: text the model reads first (it starts the output)' });
  const temperature = h('input', { id: 'temperature', type: 'number', min: 0, step: 0.05, value: '1' }); // char-rnn sample's default
  const topK = h('input', { id: 'top-k', type: 'number', min: 1, step: 1, placeholder: 'all' });
  const topP = h('input', { id: 'top-p', type: 'number', min: 0, max: 1, step: 0.05, placeholder: '1' });
  const length = h('input', { id: 'length', type: 'number', min: 1, max: LIMITS.length, step: 1, value: '500' });
  const seed = h('input', { id: 'seed', type: 'number', min: 0, max: 0xffffffff, step: 1, placeholder: 'random' });
  const inputs: Record<string, HTMLInputElement | HTMLTextAreaElement> = { prime, temperature, topK, topP, length, seed };
  const generate = h('button', { id: 'generate', type: 'submit', class: 'primary' }, 'Generate');
  const stop = h('button', { id: 'stop', type: 'button', disabled: true }, 'Stop');
  const output = h('pre', { id: 'output', class: 'output', 'data-state': 'idle' });
  const status = h('p', { id: 'generate-status', class: 'status' });
  const error = errorBox();
  let controller: AbortController | undefined;

  const run = async (): Promise<void> => {
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    error.show(undefined);
    let request: GenerateRequest;
    try {
      request = readRequest(prime.value, temperature.value, topK.value, topP.value, length.value, seed.value);
    } catch (problem) {
      showError(problem);
      return;
    }
    seed.value = String(request.seed);
    controller = new AbortController();
    generate.disabled = true;
    stop.disabled = false;
    output.textContent = '';
    output.dataset.state = 'running';
    const started = performance.now();
    let shown = 0;
    try {
      await model().generate(request, (text) => {
        output.append(text);
        shown += [...text].length;
        output.scrollTop = output.scrollHeight;
      }, controller.signal);
      const characters = shown;
      const seconds = (performance.now() - started) / 1000;
      output.dataset.charsPerSec = String(characters / seconds);
      status.textContent = `${formatNumber(characters, 0)} characters in ${formatNumber(seconds, 2)} s (${formatNumber(characters / seconds, 0)} chars/s), seed ${request.seed}`;
      output.dataset.state = 'done';
    } catch (problem) {
      if (controller.signal.aborted) {
        status.textContent = `stopped after ${formatNumber([...output.textContent ?? ''].length, 0)} characters`;
        output.dataset.state = 'stopped';
      } else {
        showError(problem);
        output.dataset.state = 'error';
      }
    } finally {
      generate.disabled = false;
      stop.disabled = true;
    }
  };
  const showError = (problem: unknown): void => {
    error.show(message(problem));
    const name = problem instanceof BackendError ? problem.field : undefined;
    if (name !== undefined && name in inputs) inputs[name].setAttribute('aria-invalid', 'true');
  };

  const form = h('form', { class: 'controls', onsubmit: (event) => { event.preventDefault(); void run(); } },
    field('Prime', prime),
    h('div', { class: 'row' },
      field('Temperature', temperature, '0 = always the likeliest'),
      field('Top-k', topK), field('Top-p', topP), field('Length', length, 'characters'), field('Seed', seed)),
    h('div', { class: 'row' }, generate, stop));
  stop.addEventListener('click', () => controller?.abort());
  return h('section', { id: 'playground', class: 'view' }, h('h2', {}, 'Playground'), form, error.element, output, status);
}

/** The request the form's values ask for; a value out of range is a BackendError naming its field. */
export function readRequest(prime: string, temperature: string, topK: string, topP: string, length: string, seed: string): Required<Pick<GenerateRequest, 'length' | 'seed'>> & GenerateRequest {
  const number = (text: string, name: string, ok: (n: number) => boolean, rule: string): number | undefined => {
    if (text.trim() === '') return undefined;
    const n = Number(text);
    if (!ok(n)) throw new BackendError(`${name} must be ${rule}, not '${text}'`, name);
    return n;
  };
  const count = number(length, 'length', (n) => Number.isInteger(n) && n >= 1 && n <= LIMITS.length, `an integer from 1 to ${LIMITS.length.toLocaleString('en-US')}`) ?? 500;
  return {
    ...(prime === '' ? {} : { prime }),
    temperature: number(temperature, 'temperature', (n) => Number.isFinite(n) && n >= 0, 'a number >= 0') ?? 1,
    topK: number(topK, 'topK', (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1'),
    topP: number(topP, 'topP', (n) => n > 0 && n <= 1, 'in (0, 1]'),
    length: count,
    seed: number(seed, 'seed', (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff, 'an integer from 0 to 4294967295') ?? crypto.getRandomValues(new Uint32Array(1))[0],
  };
}
