import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceFilesAtomically } from '../atomic-file.js';
import { loadCheckpoint } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { errorCode, fileError } from '../file-errors.js';
import { sample } from '../generate.js';
import { ABS_TOLERANCE, gradcheck, gradcheckCell } from '../gradcheck.js';
import { HISTORY_FILE, readHistory, readSamples } from '../history/index.js';
import { gradcheckChartSpec, lossChartSpec, throughputChartSpec } from './chart-specs.js';
import { readGradcheck, saveGradcheck } from './gradcheck-file.js';
import { renderPng, renderSvg } from './render.js';
import { reportHtml } from './report-html.js';

export const REPORT_FILE = 'report.html';
export const LOSS_SVG_FILE = 'loss.svg';
export const LOSS_PNG_FILE = 'loss.png';
const LONG_SAMPLE_LENGTH = 1000;
/** Entries checked per matrix by --gradcheck, as 'char-rnn gradcheck' does by default. */
const GRADCHECK_SAMPLES = 2500;
/** Entries per tensor of a gated stack: each costs two forward passes of the reference math at the run's size. */
const CELL_GRADCHECK_SAMPLES = 10;

export interface ReportOptions {
  /** Run the gradient check on a problem of the run's size and keep it in gradcheck.json. */
  readonly gradcheck?: boolean;
  /** Aborting stops the report between its stages with an AbortError; files already replaced stay whole. */
  readonly signal?: AbortSignal;
}

/** The files written, the gradient check's verdict when there is one, and what was left out of damaged history files. */
export interface ReportFiles {
  readonly html: string;
  readonly svg: string;
  readonly png: string;
  readonly gradcheckPassed: boolean | undefined;
  readonly warnings: readonly string[];
}

/**
 * Writes report.html (self-contained), loss.svg and loss.png into the folder of a training run,
 * from its history.csv, samples.jsonl, last.ckpt and best.ckpt. The files are replaced all or none,
 * each atomically, so a full disk or a Ctrl-C leaves the previous report whole. A folder that is not a run, or whose
 * files are damaged, is a UserError naming what is wrong; a full disk is a MachineError.
 */
export async function writeReport(folder: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const { signal } = options;
  await checkFolder(folder);
  if (!existsSync(join(folder, HISTORY_FILE))) {
    throw new UserError(`${folder} holds no training history (${HISTORY_FILE} not found): give the --out folder of a 'char-rnn train' run`);
  }
  const lastPath = join(folder, 'last.ckpt');
  if (!existsSync(lastPath)) throw new UserError(`${folder} has a history but no last.ckpt: the run stopped before its first checkpoint (train again)`);
  const last = await loadCheckpoint(lastPath);
  const T = last.options.seqLength;
  const history = await readHistory(folder, { seqLength: T });
  if (history === undefined || history.rows.length === 0) throw new UserError(`${join(folder, HISTORY_FILE)} has no rows yet: train for a few steps first`);
  const bestPath = join(folder, 'best.ckpt');
  const fellBack = !existsSync(bestPath);
  const sampled = fellBack ? last : await loadCheckpoint(bestPath);
  const { samples, warnings: sampleWarnings } = await readSamples(folder);

  let check = await readGradcheck(folder);
  if (options.gradcheck === true) {
    const { cell, L, H, K } = last.model;
    const dims = { cell, L, H, K, T, seed: last.options.seed };
    const checks = cell === 'rnn'
      ? gradcheck({ ...dims, samplesPerMatrix: GRADCHECK_SAMPLES })
      : gradcheckCell({ ...dims, dropout: last.options.dropout, samplesPerTensor: CELL_GRADCHECK_SAMPLES });
    check = { ...dims, checks };
    signal?.throwIfAborted();
    await saveGradcheck(folder, check);
  }

  signal?.throwIfAborted();
  const loss = lossChartSpec(history.rows);
  const lossSvg = await renderSvg(loss.spec);
  signal?.throwIfAborted();
  const throughput = throughputChartSpec(history.rows);
  const html = reportHtml({
    folder,
    createdAt: new Date().toISOString(),
    last,
    rows: history.rows,
    lossSvg,
    lossStride: loss.stride,
    throughputSvg: throughput === undefined ? undefined : await renderSvg(throughput),
    samples,
    longSample: {
      text: sample(sampled, { length: LONG_SAMPLE_LENGTH, seed: last.options.seed }),
      from: fellBack ? 'last.ckpt' : 'best.ckpt',
      fellBack,
      step: sampled.state.step,
    },
    gradcheck: check === undefined ? undefined : { ...check, svg: await renderSvg(gradcheckChartSpec(check.checks, ABS_TOLERANCE)) },
  });
  signal?.throwIfAborted();
  const png = await renderPng(lossSvg);
  const files = { html: join(folder, REPORT_FILE), svg: join(folder, LOSS_SVG_FILE), png: join(folder, LOSS_PNG_FILE) };
  signal?.throwIfAborted();
  await writeReportFiles([[files.svg, lossSvg], [files.png, png], [files.html, html]]);
  const warnings = [...history.warnings, ...sampleWarnings];
  return { ...files, warnings, gradcheckPassed: check === undefined ? undefined : check.checks.every((c) => c.passed) };
}

/** The three files all or none, so that a report never mixes two runs' files. */
async function writeReportFiles(files: readonly (readonly [string, string | Uint8Array])[]): Promise<void> {
  try {
    await replaceFilesAtomically(files);
  } catch (error) {
    const folder = dirname(files[0][0]);
    throw fileError(error, `cannot write the report into ${folder}`, 'free some space or fix the folder\'s permissions, then run \'npx parallel-char-rnn report\' again');
  }
}

async function checkFolder(folder: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(folder)).isDirectory();
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`${folder} does not exist: give the --out folder of a 'char-rnn train' run`, { cause: error });
    throw fileError(error, `cannot read ${folder}`, "give the --out folder of a 'char-rnn train' run");
  }
  if (!isFolder) throw new UserError(`${folder} is a file: give the --out folder of a 'char-rnn train' run`);
}
