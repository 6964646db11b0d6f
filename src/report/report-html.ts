import { plannedLength, type CheckpointData } from '../checkpoint/index.js';
import type { ParamCheck } from '../gradcheck.js';
import { RECENT_LABEL, RECENT_STEPS, type HistoryRow, type SampleRecord } from '../history/index.js';
import { formatDuration, formatPerChar, formatRate } from '../progress/format.js';
import { headlineLoss, recentLabel, SMOOTH_LOSS_LABEL } from '../progress/headline.js';
import { visibleText } from '../visible-text.js';
import { REPORT_COLUMN_PX } from './chart-specs.js';

/** Everything report.html shows, already computed and rendered. */
export interface ReportContent {
  readonly folder: string;
  readonly createdAt: string;
  readonly last: CheckpointData;
  readonly rows: readonly HistoryRow[];
  readonly lossSvg: string;
  /** 1: every logged step is on the curve; n: every n-th. */
  readonly lossStride: number;
  readonly throughputSvg: string | undefined;
  readonly samples: readonly SampleRecord[];
  /** The 1,000-character sample and the checkpoint it came from. */
  readonly longSample: { readonly text: string; readonly from: string; readonly fellBack: boolean; readonly step: number };
  readonly gradcheck: { readonly checks: readonly ParamCheck[]; readonly svg: string; readonly cell?: string; readonly L?: number; readonly H: number; readonly K: number; readonly T: number; readonly seed: number } | undefined;
}

/** One self-contained HTML page: inline CSS and SVG, no script, no external file. */
export function reportHtml(c: ReportContent): string {
  const { options, model, corpus, state } = c.last;
  const T = options.seqLength;
  const last = c.rows[c.rows.length - 1];
  const first = c.rows[0];
  const evaluations = c.rows.filter((row) => row.valLoss !== undefined);
  const recent = c.rows.slice(-RECENT_STEPS);
  const recentLoss = recent.reduce((sum, row) => sum + row.loss, 0) / recent.length;
  const headline = headlineLoss({ valLoss: state.valLoss, recentLoss, recentSteps: recent.length });
  const summary: [string, string][] = [
    ['steps', `${state.step.toLocaleString('en-US')} (history rows ${first.step.toLocaleString('en-US')}-${last.step.toLocaleString('en-US')}: ${c.rows.length.toLocaleString('en-US')})`],
    ['epoch', String(state.epoch)],
    ['characters seen', state.charsSeen.toLocaleString('en-US')],
    [headline.label, `${formatPerChar(headline.nats)}${state.valLoss === undefined ? ' (no validation text)' : ''}`],
    ...(state.valLoss === undefined ? [] : [[`training loss, ${recentLabel(recent.length)}`, formatPerChar(recentLoss)] as [string, string]]),
    [SMOOTH_LOSS_LABEL, `${formatPerChar(state.smoothLoss / T)}, ${state.smoothLoss.toFixed(3)} per ${T} characters`],
    ['best', state.bestStep > 0 ? `${state.bestMetric === 'val' ? 'validation loss' : "the seed's smooth loss"} ${state.bestMetric === 'val' ? formatPerChar(state.bestLoss) : formatPerChar(state.bestLoss / T)} at step ${state.bestStep}` : '-'],
    ['evaluations', String(evaluations.length)],
    ['training time', `${formatDuration(last.wallSeconds)}, ${formatRate(last.wallSeconds > first.wallSeconds ? (last.charsSeen - first.charsSeen) / (last.wallSeconds - first.wallSeconds) : Number.NaN)} chars/s on average`],
  ];
  const configuration: [string, string][] = [
    ['cell', `${model.cell}${model.L > 1 ? `, ${model.L} layers` : ''}${options.dropout > 0 ? `, dropout ${options.dropout}` : ''}`],
    ['hidden units H', String(model.H)],
    ['vocabulary K', String(model.K)],
    ['sequence length T', String(T)],
    ['streams B', String(options.streams)],
    ['threads', String(options.threads)],
    ['optimizer', `${options.optimizer}${options.optimizer === 'rmsprop' ? `, decay ${options.decay}` : options.optimizer === 'adam' ? `, beta1 ${options.beta1}, beta2 ${options.beta2}` : ''}`],
    ['learning rate', `${options.eta}${options.lrSchedule === 'constant' ? '' : `, ${options.lrSchedule} schedule`}${options.warmupSteps > 0 ? `, ${options.warmupSteps} warm-up steps` : ''}`],
    ['epsilon', String(options.eps)],
    ['gradient clip', `${options.clip} per entry${options.clipNorm > 0 ? `, norm ${options.clipNorm}` : ''}`],
    ['seed', String(options.seed)],
    ['validation fraction', String(options.valFrac)],
    ['planned length', plannedLength(options)],
    ['evaluate / sample / checkpoint every', `${options.evalEvery} / ${options.sampleEvery} / ${options.checkpointEvery} steps`],
    ['package version', c.last.packageVersion],
  ];
  const corpusRows: [string, string][] = [
    ['source', corpus.source],
    ['length', `${corpus.length.toLocaleString('en-US')} characters`],
    ['SHA-256 of the encoded text', Buffer.from(corpus.sha256).toString('hex')],
  ];
  const samples = c.samples.length === 0
    ? `<p class="note">${escapeHtml(noSamplesNote(options.sampleEvery, state.step))}</p>`
    : c.samples.map((s) => `<h3>step ${s.step.toLocaleString('en-US')} <span class="note">(epoch ${s.epoch})</span></h3>\n<pre>${sampleHtml(s.text)}</pre>`).join('\n');
  const strideNote = c.lossStride === 1 ? '' : ` The curve draws one step in ${c.lossStride} of ${c.rows.length.toLocaleString('en-US')} (and every evaluation).`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>char-rnn report: ${escapeHtml(c.folder)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; max-width: ${REPORT_COLUMN_PX / 16}rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.3rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { text-align: left; padding: 0.2rem 1rem 0.2rem 0; vertical-align: top; }
th { font-weight: 600; color: #444; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f4; border: 1px solid #e4e4e0; padding: 0.6rem 0.8rem; font-size: 0.85rem; }
.note { color: #666; font-size: 0.9rem; font-weight: normal; }
figure { margin: 0.8rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
.ctl { color: #b22; background: #fbeaea; }
.pass { color: #2a7a2a; } .fail { color: #b22; font-weight: 600; }
</style>
</head>
<body>
<h1>char-rnn training report</h1>
<p class="note">${escapeHtml(c.folder)}, written ${escapeHtml(c.createdAt)}; the last checkpoint is from ${escapeHtml(c.last.createdAt)}.</p>

<h2>Run</h2>
${table(summary)}

<h2>Configuration</h2>
${table(configuration)}
<h3>Corpus</h3>
${table(corpusRows)}

<h2>Learning curve</h2>
<p class="note">In nats per character: the training loss averaged over the ${RECENT_LABEL} (what the model does now) and the seed's smooth loss (0.999 of itself and 0.001 of each step's loss, from the first step's loss, so it lags far behind early on) at every logged step, and the validation loss at each evaluation; dashed lines mark the start of each epoch. The training and validation losses set the vertical range: the smooth loss leaves the chart where it lies above them.${strideNote} The same chart is in loss.svg and loss.png beside this file.</p>
<figure id="learning-curve">
${c.lossSvg}
</figure>

<h2>Throughput</h2>
${c.throughputSvg === undefined ? '<p class="note">Too few steps to measure.</p>' : `<figure id="throughput">\n${c.throughputSvg}\n</figure>`}

<h2>Samples during training</h2>
${samples}

<h2>A long sample</h2>
<p class="note">1,000 characters from ${escapeHtml(c.longSample.from)} (step ${c.longSample.step}), temperature 1, seed ${options.seed}.${c.longSample.fellBack ? ' There is no best.ckpt in this folder, so this sample comes from last.ckpt.' : ''}</p>
<pre>${sampleHtml(c.longSample.text)}</pre>
${c.gradcheck === undefined ? '' : gradcheckSection(c.gradcheck)}
</body>
</html>
`;
}

/** Why report.html shows no samples from training: none asked for, none due before the run ended, or none in the samples file. */
export function noSamplesNote(sampleEvery: number, step: number): string {
  if (sampleEvery === 0) return 'No samples were taken during training (--sample-every 0).';
  if (step < sampleEvery) return `No samples were taken during training: the first was due at step ${sampleEvery} (--sample-every ${sampleEvery}), and the run ended at step ${step}.`;
  return 'No samples from training are in samples.jsonl.';
}

function gradcheckSection(g: NonNullable<ReportContent['gradcheck']>): string {
  const rows = g.checks.map((check) => `<tr><th>${check.name}</th><td class="num">${check.checked}</td><td class="num">${check.maxGradient.toExponential(2)}</td><td class="num">${check.maxAbsError.toExponential(2)}</td><td class="num">${Number.isNaN(check.maxRelError) ? '-' : check.maxRelError.toExponential(2)}</td><td class="num">${check.judgedRelative}</td><td class="${check.passed ? 'pass' : 'fail'}">${check.passed ? 'ok' : 'FAIL'}</td></tr>`);
  return `
<h2>Gradient check</h2>
<p class="note">Analytic BPTT gradients against centered differences (step 1e-5) on a random problem of this run's size: ${g.cell ?? 'rnn'}${(g.L ?? 1) > 1 ? `, L = ${g.L}` : ''}, H = ${g.H}, K = ${g.K}, T = ${g.T}, seed ${g.seed}.</p>
<table>
<tr><th>parameter</th><th>entries</th><th>max |grad|</th><th>max abs err</th><th>max rel err</th><th>judged rel.</th><th></th></tr>
${rows.join('\n')}
</table>
<figure id="gradcheck">
${g.svg}
</figure>`;
}

function table(rows: readonly [string, string][]): string {
  return `<table>\n${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</table>`;
}

/** A sample's text for a <pre>: control characters shown as marked escapes (\x02), newlines and tabs kept. */
export function sampleHtml(text: string): string {
  return visibleText(escapeHtml(text), (escape) => `<span class="ctl">${escape}</span>`);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
