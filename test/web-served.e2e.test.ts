/**
 * The served page in headless chromium against 'char-rnn serve': it lists the runs, its playground prints what
 * 'char-rnn sample' prints, its shading's mean is 'char-rnn eval's, its live view follows a
 * training run in progress, and a damaged run's error is shown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'puppeteer-core';
import { generateOnPage, launchChromium, openPage, shadeOnPage, waitForLiveStep, type PlaygroundOptions } from './fixtures/browser.js';
import { CLI_PATH, runCli, tempDir } from './fixtures/harness.js';
import { startServer, type RunningServer } from './fixtures/served.js';

const dir = tempDir('web-served-');
const runs = join(dir.path, 'runs');
const SMALL = ['--cell', 'gru', '--layers', '1', '--hidden', '32', '--eval-every', '10', '--sample-every', '10', '--sample-length', '40', '--no-report'];
let browser: Browser;
let server: RunningServer;
let trainer: ChildProcess | undefined;

test.before(async () => {
  mkdirSync(runs);
  for (const [name, flags] of [['small-a', ['--steps', '20']], ['small-b', ['--steps', '30', '--cell', 'lstm']]] as const) {
    const result = await runCli(['train', ...SMALL, ...flags, '--out', join(runs, name)], { cwd: dir.path });
    if (result.code !== 0) throw new Error(`train ${name} failed: ${result.stderr}`);
  }
  mkdirSync(join(runs, 'damaged'));
  writeFileSync(join(runs, 'damaged', 'best.ckpt'), 'not a checkpoint');
  browser = await launchChromium();
  server = await startServer(runs);
});
test.after.always(async () => {
  trainer?.kill('SIGKILL');
  await browser?.close();
  await server?.close();
  dir.remove();
});

async function open(view: string): Promise<Page> {
  const page = await openPage(browser);
  await page.goto(`${server.url}#${view}`);
  return page;
}

test(`the runs view lists every run with its step and best validation loss, and a damaged one with its error`, async (t) => {
  const page = await open('runs');
  await page.waitForSelector('#runs-table tr[data-run="small-b"]');
  const rows = await page.$$eval('#runs-table tbody tr[data-run]', (trs) => trs.map((tr) => [tr.getAttribute('data-run'), tr.textContent]));
  const byName = Object.fromEntries(rows) as Record<string, string>;
  // the live view's test below starts a run 'live' in the same folder, at any moment
  t.deepEqual(Object.keys(byName).filter((name) => name !== 'live').sort(), ['damaged', 'small-a', 'small-b']);
  t.regex(byName['small-a'], /gru.*1 × 32\s*20/);
  t.regex(byName['small-b'], /lstm.*1 × 32\s*30/);
  const history = readFileSync(join(runs, 'small-b', 'history.csv'), 'utf8').trim().split('\n').slice(1);
  const best = Math.min(...history.map((line) => line.split(',')[5]).filter((v) => v !== '').map(Number));
  t.true(byName['small-b'].includes(best.toFixed(4)), `${byName['small-b']} lacks ${best.toFixed(4)}`);
  t.regex(byName.damaged, /\S/);
  await page.waitForSelector('#compare-chart svg polyline');
  await page.close();
});

for (const [label, options] of [['without a prime', { length: 300, seed: 3 }], ['with a prime and top-k', { length: 300, seed: 4, prime: 'The ', topK: 4, temperature: 0.8 }]] as const) {
  test(`the playground streams what char-rnn sample prints, ${label}`, async (t) => {
    const page = await open('playground/small-b');
    const { text } = await generateOnPage(page, options as PlaygroundOptions);
    await page.close();
    const o = options as PlaygroundOptions;
    const args = ['sample', '--checkpoint', join(runs, 'small-b'), '--length', String(o.length), '--seed', String(o.seed)];
    if (o.prime !== undefined) args.push('--prime', o.prime);
    if (o.topK !== undefined) args.push('--top-k', String(o.topK));
    if (o.temperature !== undefined) args.push('--temperature', String(o.temperature));
    const sample = await runCli(args, { cwd: dir.path });
    t.is(text, sample.stdout);
  });
}

test(`the shading's mean is char-rnn eval's`, async (t) => {
  const text = 'Fellow-Citizens of the Senate and of the House of Representatives.';
  const page = await open('expects/small-a');
  const shading = await shadeOnPage(page, text);
  await page.close();
  const evaluated = await runCli(['eval', '--checkpoint', join(runs, 'small-a'), '--text-file', dir.file('speech.txt', text), '--json'], { cwd: dir.path });
  t.is(shading.bitsPerChar, (JSON.parse(evaluated.stdout) as { natsPerChar: number }).natsPerChar / Math.LN2);
});

test(`a run that cannot be read shows the server's error in the playground`, async (t) => {
  const page = await open('playground/damaged');
  await t.throwsAsync(generateOnPage(page, { length: 10, seed: 1 }), { message: /ended 'error': .+/ });
  await page.close();
});

test(`the live view picks up the history rows of a training run in progress`, async (t) => {
  const out = join(runs, 'live');
  trainer = spawn(process.execPath, [CLI_PATH, 'train', ...SMALL, '--steps', '100000', '--out', out], { cwd: dir.path, stdio: 'ignore' });
  while (!existsSync(join(out, 'best.ckpt')) || readFileSync(join(out, 'history.csv'), 'utf8').split('\n').length < 3) await new Promise((resolve) => setTimeout(resolve, 200));
  const page = await open('live/live');
  const first = await waitForLiveStep(page, 0);
  t.true((await waitForLiveStep(page, first)) > first);
  t.is(await page.$eval('#live-stats [data-stat="state"]', (element) => element.textContent), 'training');
  await page.close();
  trainer.kill('SIGKILL');
});
