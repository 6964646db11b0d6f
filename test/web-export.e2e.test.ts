/**
 * char-rnn export --format web, in a real browser: the page samples what 'char-rnn sample' prints
 * and its shading's mean is what 'char-rnn eval' prints, from file:// and from a static host.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Browser } from 'puppeteer-core';
import { saveCheckpoint } from '../src/checkpoint/index.js';
import { WEB_FILES } from '../src/export/web-folder.js';
import { generateOnPage, launchChromium, openPage, shadeOnPage, staticServer, type PlaygroundOptions } from './fixtures/browser.js';
import { gatedCheckpoint } from './fixtures/gated-model.js';
import { runCli, tempDir } from './fixtures/harness.js';

const dir = tempDir('web-export-');
const SIZE_LIMIT = 2_000_000;
/** The default model (GRU 2x128, float32, K=98) after five steps on the bundled corpus; and random gated models over a vocabulary with é and 😀. */
const MODELS = ['trained', 'lstm-float64', 'gru-float32', 'rnn-float64'] as const;
type Model = (typeof MODELS)[number];
const checkpointOf = (model: Model): string => join(dir.path, model === 'trained' ? 'trained/best.ckpt' : `${model}.ckpt`);
const exportOf = (model: Model): string => join(dir.path, 'web', model);

let browser: Browser;
let server: Awaited<ReturnType<typeof staticServer>>;
test.before(async () => {
  const trained = await runCli(['train', '--steps', '5', '--no-report', '--out', join(dir.path, 'trained')], { cwd: dir.path });
  if (trained.code !== 0) throw new Error(`train failed: ${trained.stderr}`);
  await saveCheckpoint(checkpointOf('lstm-float64'), gatedCheckpoint({ cell: 'lstm', dtype: 'float64', L: 2, H: 16, seed: 3 }));
  await saveCheckpoint(checkpointOf('gru-float32'), gatedCheckpoint({ cell: 'gru', dtype: 'float32', L: 2, H: 12, seed: 4 }));
  await saveCheckpoint(checkpointOf('rnn-float64'), gatedCheckpoint({ cell: 'rnn', dtype: 'float64', L: 1, H: 10, seed: 5 }));
  for (const model of MODELS) {
    const result = await runCli(['export', '--checkpoint', checkpointOf(model), '--format', 'web', '--out', exportOf(model)], { cwd: dir.path });
    if (result.code !== 0) throw new Error(`export of ${model} failed: ${result.stderr}`);
  }
  browser = await launchChromium();
  server = await staticServer(join(dir.path, 'web'));
});
test.after.always(async () => {
  await browser?.close();
  await server?.close();
  dir.remove();
});

const fileUrl = (model: Model, view = ''): string => `file://${exportOf(model)}/index.html${view}`;
const httpUrl = (model: Model, view = ''): string => `${server.url}${model}/index.html${view}`;

async function cliSample(model: Model, options: PlaygroundOptions): Promise<string> {
  const args = ['sample', '--checkpoint', checkpointOf(model), '--length', String(options.length), '--seed', String(options.seed)];
  if (options.prime !== undefined) args.push('--prime', options.prime);
  if (options.temperature !== undefined) args.push('--temperature', String(options.temperature));
  if (options.topK !== undefined) args.push('--top-k', String(options.topK));
  if (options.topP !== undefined) args.push('--top-p', String(options.topP));
  const result = await runCli(args, { cwd: dir.path });
  if (result.code !== 0) throw new Error(`sample failed: ${result.stderr}`);
  return result.stdout;
}

async function pageSample(url: string, options: PlaygroundOptions): Promise<string> {
  const page = await openPage(browser);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  try {
    await page.goto(url);
    const { text } = await generateOnPage(page, options);
    if (errors.length > 0) throw new Error(errors.join('\n'));
    return text;
  } finally {
    await page.close();
  }
}

const CASES: readonly [string, Model, PlaygroundOptions][] = [
  ['no prime (from the carried state of stream 0)', 'trained', { length: 300, seed: 11 }],
  ['a prime', 'trained', { length: 300, seed: 12, prime: 'The Congress ' }],
  ['temperature 0.7 and top-k 5', 'trained', { length: 300, seed: 13, temperature: 0.7, topK: 5 }],
  ['top-p 0.9 and a prime', 'trained', { length: 200, seed: 14, topP: 0.9, prime: 'We ' }],
  ['greedy', 'trained', { length: 100, seed: 15, temperature: 0 }],
  ['no prime', 'lstm-float64', { length: 400, seed: 21 }],
  ['an astral prime', 'lstm-float64', { length: 400, seed: 22, prime: 'hé😀 ' }],
  ['no prime', 'gru-float32', { length: 400, seed: 31, temperature: 0.8 }],
  ['a prime and top-k 3', 'gru-float32', { length: 400, seed: 32, prime: 'the 😀', topK: 3 }],
  ['no prime', 'rnn-float64', { length: 400, seed: 41 }],
  ['a prime', 'rnn-float64', { length: 400, seed: 42, prime: 'bat' }],
];

for (const [label, model, options] of CASES) {
  test(`file://: the ${model} page samples what char-rnn sample prints: ${label}`, async (t) => {
    const expected = await cliSample(model, options);
    t.true([...expected].length >= options.length);
    t.is(await pageSample(fileUrl(model), options), expected);
  });
}

for (const model of ['trained', 'gru-float32'] as const) {
  test(`a static host: the ${model} page samples what char-rnn sample prints`, async (t) => {
    const options = { length: 300, seed: 51, prime: model === 'trained' ? 'The ' : 'hat ', temperature: 0.9 };
    t.is(await pageSample(httpUrl(model), options), await cliSample(model, options));
  });
}

const TEXTS: Readonly<Record<Model, string>> = {
  trained: 'The President shall, from time to time, give to the Congress Information of the State of the Union.\n',
  'lstm-float64': 'the bat ate the hat 😀\nhé abbé\n',
  'gru-float32': 'a bet; the ha 😀 é\n',
  'rnn-float64': 'abba babe tea\nhé 😀',
};

for (const model of MODELS) {
  test(`the ${model} page's shading has char-rnn eval's mean, and each character's bits add up to it`, async (t) => {
    const textFile = dir.file(`${model}.txt`, TEXTS[model].replace('; ', ' '));
    const text = TEXTS[model].replace('; ', ' ');
    const evaluated = await runCli(['eval', '--checkpoint', checkpointOf(model), '--text-file', textFile, '--json'], { cwd: dir.path });
    t.is(evaluated.code, 0, evaluated.stderr);
    const { natsPerChar, characters } = JSON.parse(evaluated.stdout) as { natsPerChar: number; characters: number };
    const page = await openPage(browser);
    await page.goto(fileUrl(model, '#expects'));
    const shading = await shadeOnPage(page, text);
    await page.close();
    t.is(shading.bitsPerChar, natsPerChar / Math.LN2);
    t.true(shading.shown.startsWith((natsPerChar / Math.LN2).toFixed(4)), shading.shown);
    t.is(shading.characters, characters);
    t.is(shading.positionBits[0], null);
    const bits = shading.positionBits.slice(1) as number[];
    const mean = bits.reduce((a, b) => a + b, 0) / bits.length;
    t.true(Math.abs(mean - natsPerChar / Math.LN2) < 1e-4, `positions' mean ${mean}, eval ${natsPerChar / Math.LN2}`);
  });
}

test('the page shows the library\'s one-line error for a prime with characters the model lacks, and marks the field', async (t) => {
  const page = await openPage(browser);
  await page.goto(fileUrl('lstm-float64'));
  await t.throwsAsync(generateOnPage(page, { length: 10, seed: 1, prime: 'hello' }), { message: /the prime has .*"l" \(U\+006C\)/ });
  t.is(await page.$eval('#prime', (element) => element.getAttribute('aria-invalid')), 'true');
  await page.close();
});

test('the default model\'s folder is the four files, under 2 MB: no optimizer state', (t) => {
  const files = readdirSync(exportOf('trained')).sort();
  t.deepEqual(files, [...WEB_FILES].sort());
  const bytes = files.reduce((sum, file) => sum + statSync(join(exportOf('trained'), file)).size, 0);
  t.true(bytes < SIZE_LIMIT, `${bytes} bytes`);
  t.true(bytes < statSync(checkpointOf('trained')).size / 3, 'a third of the checkpoint or less');
});

test('without chromium the page tests fail and say how to install it', async (t) => {
  await t.throwsAsync(launchChromium('/nonexistent/chromium'), { message: /apt-get install chromium/ });
});

test('export --format web refuses --dtype and a file as --out, in one line', async (t) => {
  const dtype = await runCli(['export', '--checkpoint', checkpointOf('trained'), '--format', 'web', '--out', join(dir.path, 'x'), '--dtype', 'float32'], { cwd: dir.path });
  t.is(dtype.code, 2);
  t.regex(dtype.stderr, /^char-rnn: --dtype is for safetensors and onnx[^\n]*\n$/);
  const file = dir.file('a-file', 'x');
  const out = await runCli(['export', '--checkpoint', checkpointOf('trained'), '--format', 'web', '--out', file], { cwd: dir.path });
  t.regex(out.stderr, /is a file; a web export is a folder/);
});

test('Stop ends a long generation, keeping what was shown', async (t) => {
  const page = await openPage(browser);
  await page.goto(fileUrl('trained'));
  await page.$eval('#length', (element) => {
    (element as unknown as { value: string }).value = '100000';
  });
  await page.$eval('#seed', (element) => {
    (element as unknown as { value: string }).value = '9';
  });
  await page.click('#generate');
  try {
    await page.waitForFunction(() => ((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } } }).document.querySelector('#output').textContent ?? '').length > 500, { polling: 50 });
  } finally {
    await page.click('#stop');
  }
  await page.waitForSelector('#output[data-state="stopped"]');
  const shown = await page.$eval('#output', (element) => element.textContent ?? '');
  t.true(shown.length > 500 && shown.length < 100_000, `${shown.length} characters`);
  t.regex(await page.$eval('#generate-status', (element) => element.textContent ?? ''), /^stopped after/);
  const sample = await runCli(['sample', '--checkpoint', checkpointOf('trained'), '--length', '100000', '--seed', '9'], { cwd: dir.path });
  t.is(sample.code, 0, sample.stderr);
  t.is(sample.stdout.slice(0, shown.length), shown);
  await page.close();
});

test('the shading names characters the model lacks and marks the text', async (t) => {
  const page = await openPage(browser);
  await page.goto(fileUrl('lstm-float64', '#expects'));
  await t.throwsAsync(shadeOnPage(page, 'the bat ate a cow'), { message: /"c" \(U\+0063\).*"o" \(U\+006F\)|"c" \(U\+0063\)/ });
  t.is(await page.$eval('#score-text', (element) => element.getAttribute('aria-invalid')), 'true');
  await page.close();
});
