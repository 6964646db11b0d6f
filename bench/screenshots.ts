/**
 * Screenshots of the served page for the README and docs/web.md: every view at 1280 px wide and
 * the live and shading views at 390 px (a phone), as PNG in docs/images/.
 *
 *   node dist/bench/screenshots.js [--runs DIR] [--server URL] [--out docs/images]
 *
 * Without --runs it trains three small runs (about a minute on two cores) in a temporary folder.
 * Without --server it serves them with 'char-rnn serve'; with --server, the runs of the server at URL.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'puppeteer-core';
import { generateOnPage, launchChromium, shadeOnPage } from '../test/fixtures/browser.js';
import { startServer } from '../test/fixtures/served.js';
import { runCli } from '../test/fixtures/harness.js';

const RUNS: readonly [string, string[]][] = [
  ['gru-1x64', ['--cell', 'gru', '--layers', '1', '--hidden', '64']],
  ['lstm-1x64', ['--cell', 'lstm', '--layers', '1', '--hidden', '64']],
  ['rnn-100', ['--cell', 'rnn', '--hidden', '100']],
];
const TEXT = 'Mr. Speaker, Mr. President, and distinguished Members of the Congress: the state of the Union is strong.';

async function trainRuns(parent: string): Promise<void> {
  for (const [name, flags] of RUNS) {
    process.stderr.write(`training ${name}\n`);
    const result = await runCli(['train', ...flags, '--steps', '150', '--eval-every', '30', '--sample-every', '50', '--sample-length', '160', '--no-report', '--out', join(parent, name)], { cwd: parent, timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`train ${name} failed: ${result.stderr}`);
  }
}

async function shoot(page: Page, out: string, name: string, width: number): Promise<void> {
  await page.setViewport({ width, height: 900 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const file = join(out, `${name}-${width}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  process.stderr.write(`wrote ${file}\n`);
}

const { values } = parseArgs({ options: { runs: { type: 'string' }, server: { type: 'string' }, out: { type: 'string', default: 'docs/images' } } });
const out = values.out as string;
mkdirSync(out, { recursive: true });
const temp = values.runs === undefined && values.server === undefined ? mkdtempSync(join(tmpdir(), 'screenshots-')) : undefined;
if (temp !== undefined) await trainRuns(temp);
const stand = values.server === undefined ? await startServer((values.runs as string | undefined) ?? (temp as string)) : undefined;
const base = values.server ?? (stand as { url: string }).url;
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(`${base}#runs`);
  await page.waitForSelector('#compare-chart svg');
  await shoot(page, out, 'runs', 1280);
  await shoot(page, out, 'runs', 390);
  const first = await page.$eval('#runs-table tbody tr[data-run]', (row) => row.getAttribute('data-run') as string);
  await page.goto(`${base}#live/${encodeURIComponent(first)}`);
  await page.waitForSelector('#live .chart');
  await shoot(page, out, 'live', 1280);
  await shoot(page, out, 'live', 390);
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(`${base}#playground/${encodeURIComponent(first)}`);
  await generateOnPage(page, { prime: 'The ', temperature: 0.7, length: 400, seed: 7 });
  await shoot(page, out, 'playground', 1280);
  await page.goto(`${base}#expects/${encodeURIComponent(first)}`);
  await shadeOnPage(page, TEXT);
  await page.hover('#shaded .ch:nth-child(12)');
  await shoot(page, out, 'expects', 1280);
  await shoot(page, out, 'expects', 390);
} finally {
  await browser.close();
  await stand?.close();
  if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
}
