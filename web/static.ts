import { decodeWebModel, kernelsAvailable } from 'parallel-char-rnn/browser';
import { startStaticApp } from './app.js';
import { h, message } from './dom.js';
import { localModel } from './local-backend.js';

/** model.js (written by 'char-rnn export --format web') sets this: a script, not a fetch, so the page runs from file:// too. */
declare global {
  var charRnnModel: string | undefined;
}

const root = document.getElementById('app') as HTMLElement;
try {
  if (globalThis.charRnnModel === undefined) throw new Error('model.js did not load: keep it beside index.html');
  const model = decodeWebModel(Uint8Array.from(atob(globalThis.charRnnModel), (c) => c.charCodeAt(0)));
  const { cell, L, H } = model.model;
  const engine = kernelsAvailable(model.options.dtype) ? 'WebAssembly kernels' : 'reference math (the WebAssembly kernels cannot run here)';
  const about = `${model.info.name}: ${cell} ${L} × ${H}, ${model.options.dtype}, step ${model.info.step.toLocaleString('en-US')}; runs in this page on the ${engine}`;
  startStaticApp(root, localModel(model), about);
} catch (error) {
  root.replaceChildren(h('div', { class: 'error', role: 'alert' }, `cannot start: ${message(error)}`));
}
