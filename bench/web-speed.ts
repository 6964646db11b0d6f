/**
 * How fast the static export samples in headless chromium: the playground's own chars/s (the
 * prime-less text it streamed, over the time from Generate to the last chunk shown), median of
 * several runs after a warm-up, from file:// and from a static http host.
 *
 *   node dist/bench/web-speed.js [--checkpoint FILE|RUN] [--runs 5] [--length 20000]
 *
 * Beside them, the yardstick: sample() in this Node process on the same checkpoint, the same runs.
 *
 * Without --checkpoint it trains the default model (GRU 2x128, float32) for five steps on the
 * bundled corpus; the speed does not depend on how well a model is trained.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCheckpointFile } from '../src/checkpoint/index.js';
import { sample } from '../src/generate.js';
import { checkpointIn } from '../src/run-lookup.js';
import { BEST_CHECKPOINT } from '../src/run-folder.js';
import { generateOnPage, launchChromium, staticServer } from '../test/fixtures/browser.js';
import { runCli } from '../test/fixtures/harness.js';
import { median } from './format.js';

const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, runs: { type: 'string', default: '5' }, length: { type: 'string', default: '20000' } } });
const runs = Number(values.runs);
const length = Number(values.length);
const temp = mkdtempSync(join(tmpdir(), 'web-speed-'));
const must = async (args: string[]): Promise<void> => {
  const result = await runCli(args, { cwd: temp, timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`char-rnn ${args[0]} failed: ${result.stderr}`);
};
const browser = await launchChromium();
const server = await staticServer(temp);
try {
  let checkpoint = values.checkpoint;
  if (checkpoint === undefined) {
    checkpoint = join(temp, 'model');
    await must(['train', '--steps', '5', '--no-report', '--out', checkpoint]);
  }
  await must(['export', '--checkpoint', checkpoint, '--format', 'web', '--out', join(temp, 'web')]);
  const { data } = await loadCheckpointFile(checkpointIn(checkpoint, BEST_CHECKPOINT));
  sample(data, { length: 2000, seed: 1 });
  const nodeRates = Array.from({ length: runs }, (_, run) => {
    const started = performance.now();
    sample(data, { length, seed: run + 2 });
    return length / ((performance.now() - started) / 1000);
  });
  console.log(`${'node'.padEnd(8)} ${Math.round(median(nodeRates)).toLocaleString('en-US').padStart(7)} chars/s (median of ${runs} x ${length.toLocaleString('en-US')}; sample() in Node, no page)`);
  for (const [origin, url] of [['file://', `file://${temp}/web/index.html`], ['http', `${server.url}web/index.html`]]) {
    const page = await browser.newPage();
    await page.goto(url);
    const about = await page.$eval('#about', (element) => element.textContent);
    await generateOnPage(page, { length: 2000, seed: 1 });
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      await generateOnPage(page, { length, seed: run + 2 }, 600_000);
      rates.push(await page.$eval('#output', (element) => Number(element.getAttribute('data-chars-per-sec'))));
    }
    await page.close();
    console.log(`${origin.padEnd(8)} ${Math.round(median(rates)).toLocaleString('en-US').padStart(7)} chars/s (median of ${runs} x ${length.toLocaleString('en-US')}; runs ${rates.map((r) => Math.round(r)).join(', ')}) ${about}`);
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(temp, { recursive: true, force: true });
}
