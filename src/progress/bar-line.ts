/** What the progress bar's line shows, already measured. */
export interface BarView {
  readonly step: number;
  readonly totalSteps: number;
  /** Done, from 0 to 1: of the steps, or of the time budget when that ends the run first (then no totals are shown). */
  readonly progress: number;
  readonly byTime: boolean;
  readonly epoch: number | undefined;
  readonly epochs: number | undefined;
  /** Nats per character, the mean of the last recentSteps steps. */
  readonly recentLoss: number | undefined;
  readonly recentSteps: number;
  readonly valLoss: number | undefined;
  /** '41.2k chars/s', or what happens instead of training ('evaluating… 3s'). */
  readonly speed: string;
  /** '1m32s' */
  readonly eta: string;
}

interface Layout {
  readonly graphic: number;
  readonly percent: boolean;
  readonly step: 'long' | 'short' | 'none';
  readonly epoch: boolean;
  readonly loss: 'long' | 'medium' | 'short' | 'none';
  readonly val: boolean;
  readonly speed: boolean;
}

const FULL: Layout = { graphic: 20, percent: true, step: 'long', epoch: true, loss: 'long', val: true, speed: true };

/**
 * How the line gives way on a narrow terminal, one change after another until it fits: the bar
 * graphic narrower, words that only explain, the epoch, the word 'step', the rate; then, narrower
 * than an 80-column terminal holds with a validation loss, the graphic, the validation loss, the
 * training loss, the step and the percentage. The ETA stays.
 */
const NARROWER: readonly Partial<Layout>[] = [
  { graphic: 10 },
  { loss: 'medium' },
  { epoch: false },
  { loss: 'short' },
  { step: 'short' },
  { speed: false },
  { graphic: 0 },
  { val: false },
  { loss: 'none' },
  { step: 'none' },
  { percent: false },
];

/**
 * The bar's line at its fullest that fits in `width` columns, e.g.
 * `██████████░░░░░░░░░░ 48% | step 1200/2500 | epoch 1/1 | loss 2.093 nats/char (last 100 steps) | val 1.873 | 41.2k chars/s | ETA 1m32s`;
 * at the narrowest `ETA 1m32s`, even when that does not fit.
 */
export function barLine(view: BarView, width: number): string {
  let layout = FULL;
  let line = renderLine(view, layout);
  for (const change of NARROWER) {
    if (line.length <= width) break;
    layout = { ...layout, ...change };
    line = renderLine(view, layout);
  }
  return line;
}

function renderLine(v: BarView, layout: Layout): string {
  const progress = v.progress;
  const head: string[] = [];
  if (layout.graphic > 0) {
    const done = Math.round(progress * layout.graphic);
    head.push('█'.repeat(done) + '░'.repeat(layout.graphic - done));
  }
  if (layout.percent) head.push(`${Math.floor(100 * progress)}%`);
  const fields = head.length > 0 ? [head.join(' ')] : [];
  if (layout.step !== 'none') fields.push(`${layout.step === 'long' ? 'step ' : ''}${v.step}${v.byTime ? '' : `/${v.totalSteps}`}`);
  if (layout.epoch) fields.push(`epoch ${v.epoch ?? '-'}${v.byTime ? '' : `/${v.epochs === undefined ? '-' : Math.ceil(v.epochs)}`}`);
  if (layout.loss !== 'none') fields.push(lossField(v, layout.loss));
  if (layout.val) fields.push(`val ${loss(v.valLoss)}`);
  if (layout.speed) fields.push(v.speed);
  fields.push(`ETA ${v.eta}`);
  return fields.join(' | ');
}

function lossField(v: BarView, form: 'long' | 'medium' | 'short'): string {
  const value = `loss ${loss(v.recentLoss)}`;
  if (form === 'short' || v.recentLoss === undefined) return value;
  const steps = `last ${v.recentSteps} step${v.recentSteps === 1 ? '' : 's'}`;
  return form === 'long' ? `${value} nats/char (${steps})` : `${value} (last ${v.recentSteps})`;
}

function loss(nats: number | undefined): string {
  return nats === undefined ? '-' : nats.toFixed(3);
}
