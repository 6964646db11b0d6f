import type { Clock, Reporter, StepStats } from './reporter.js';
import { EtaClock, type Standing } from './eta-clock.js';
import { formatDuration, formatRate } from './format.js';

export class PlainReporter implements Reporter {
  #eta: EtaClock | undefined;
  #last: StepStats | undefined;
  #lastPrintedAt = -Infinity;
  #unprinted = false;
  #finished = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly now: Clock,
    private readonly intervalMs: number,
  ) {}

  begin(text: string): void {
    this.stream.write(`${text}...\n`);
  }

  done(text: string): void {
    this.stream.write(`${text}\n`);
  }

  fail(_text: string): void {
    // The caller prints the error itself; a second line saying the same would be noise.
  }

  startTraining(_totalSteps: number, startStep: number): void {
    this.#eta = new EtaClock(startStep);
    this.#last = undefined;
    this.#lastPrintedAt = -Infinity;
    this.#unprinted = false;
    this.#finished = false;
  }

  update(stats: StepStats): void {
    if (this.#finished) return;
    if (this.#eta === undefined) this.startTraining(stats.totalSteps, stats.step - 1);
    this.#last = stats;
    const time = this.now();
    if (time - this.#lastPrintedAt >= this.intervalMs || stats.step >= stats.totalSteps) {
      this.#print(stats, time);
    } else {
      this.#unprinted = true;
    }
  }

  startEvaluation(step: number): void {
    if (!this.#finished) this.stream.write(`step ${step}: evaluating on the validation text...\n`);
  }

  endEvaluation(): void {
    // The loop prints the validation loss itself.
  }

  log(text: string): void {
    this.stream.write(`${text}\n`);
  }

  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#unprinted && this.#last !== undefined) this.#print(this.#last, this.now());
  }

  #print(stats: StepStats, time: number): void {
    const standing = this.#eta?.standing(stats) ?? { fraction: 0, eta: undefined, byTime: false };
    this.stream.write(`${plainLine(stats, standing)}\n`);
    this.#lastPrintedAt = time;
    this.#unprinted = false;
  }
}

/**
 * e.g. `step 1200/5000 (24%) | epoch 1/1 | nats/char: loss 2.093 (last 100 steps), smooth 2.214, val 1.873 (2.703 bits) | 41.2k chars/s | ETA 1m32s`;
 * when the time budget ends the run first, `step 1200 (24% of 4m30s) | epoch 1 | ...`.
 */
function plainLine(stats: StepStats, standing: Standing): string {
  const percent = Math.floor(100 * standing.fraction);
  const val = stats.valLoss === undefined ? 'val -' : `val ${stats.valLoss.toFixed(3)} (${(stats.valLoss / Math.LN2).toFixed(3)} bits)`;
  const recent = `loss ${stats.recentLoss.toFixed(3)} (last ${stats.recentSteps} step${stats.recentSteps === 1 ? '' : 's'})`;
  return [
    standing.byTime ? `step ${stats.step} (${percent}% of ${formatDuration(stats.budget?.seconds)})` : `step ${stats.step}/${stats.totalSteps} (${percent}%)`,
    standing.byTime ? `epoch ${stats.epoch}` : `epoch ${stats.epoch}/${Math.ceil(stats.epochs)}`,
    `nats/char: ${recent}, smooth ${stats.smoothLoss.toFixed(3)}, ${val}`,
    `${formatRate(stats.charsPerSec)} chars/s`,
    `ETA ${formatDuration(standing.eta)}`,
  ].join(' | ');
}
