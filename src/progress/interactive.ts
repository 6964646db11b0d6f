import cliProgress from 'cli-progress';
import ora, { type Ora } from 'ora';
import type { Clock, Reporter, StepStats } from '../progress.js';
import { EtaClock } from './eta-clock.js';
import { formatDuration, formatRate } from './format.js';

/** cli-progress redraws on its own 10 fps timer; pushing stats more often only costs formatting. */
const BAR_PUSH_INTERVAL_MS = 100;
const BAR_FORMAT =
  '{bar} {percentage}% | step {value}/{total} | epoch {epoch}/{epochs} | loss {smooth} | val {val}' +
  ' | {speed} chars/s | ETA {remaining}';

export class InteractiveReporter implements Reporter {
  #spinner: Ora | undefined;
  #bars: cliProgress.MultiBar | undefined;
  #bar: cliProgress.SingleBar | undefined;
  #eta: EtaClock | undefined;
  #last: StepStats | undefined;
  #lastPushAt = -Infinity;
  #finished = false;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly now: Clock,
  ) {}

  begin(text: string): void {
    this.#settleSpinner();
    // discardStdin puts stdin in raw mode, which delays Ctrl+C while corpus loading blocks the loop.
    this.#spinner = ora({ text, stream: this.stream, isEnabled: true, discardStdin: false }).start();
  }

  done(text: string): void {
    if (this.#spinner === undefined) {
      this.log(text);
      return;
    }
    this.#spinner.succeed(text);
    this.#spinner = undefined;
  }

  fail(text: string): void {
    this.#spinner?.fail(text);
    this.#spinner = undefined;
    if (this.#bars === undefined) return;
    // The caller prints the error next; it must not land on the bar's line or be drawn over.
    this.#finished = true;
    this.#stopBar();
  }

  startTraining(totalSteps: number, startStep: number): void {
    this.#settleSpinner();
    this.#stopBar();
    this.#finished = false;
    this.#last = undefined;
    this.#lastPushAt = -Infinity;
    this.#eta = new EtaClock(startStep, this.now());
    this.#bars = new cliProgress.MultiBar({
      stream: this.stream,
      format: BAR_FORMAT,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: false,
      // Keep terminal line wrapping on so long samples printed by log() are not cut off.
      linewrap: true,
      // After log() the bar line is blank although its text is unchanged; redraw regardless.
      forceRedraw: true,
    });
    this.#bar = this.#bars.create(totalSteps, startStep, placeholderPayload());
  }

  update(stats: StepStats): void {
    if (this.#finished) return;
    if (this.#bar === undefined) this.startTraining(stats.totalSteps, stats.step - 1);
    this.#last = stats;
    const time = this.now();
    if (time - this.#lastPushAt >= BAR_PUSH_INTERVAL_MS || stats.step >= stats.totalSteps) {
      this.#push(stats, time);
    }
  }

  log(text: string): void {
    if (this.#bars === undefined) {
      // A running spinner hooks the stream's write and redraws itself below this text.
      this.stream.write(`${text}\n`);
      return;
    }
    this.#bars.log(`${text}\n`);
    // MultiBar flushes its log buffer on the next timer tick; flush now so output order is kept.
    this.#bars.update();
  }

  finish(): void {
    this.#settleSpinner();
    if (this.#finished) return;
    this.#finished = true;
    this.#stopBar();
  }

  #push(stats: StepStats, time: number): void {
    const bar = this.#bar;
    if (bar === undefined) return;
    if (bar.getTotal() !== stats.totalSteps) bar.setTotal(stats.totalSteps);
    const eta = this.#eta?.remaining(stats.step, stats.totalSteps, time);
    bar.update(stats.step, barPayload(stats, eta));
    this.#lastPushAt = time;
  }

  #stopBar(): void {
    const bars = this.#bars;
    if (bars === undefined) return;
    if (this.#last !== undefined) this.#push(this.#last, this.now());
    // stop() renders the bars but does not flush pending log() text; update() does both.
    bars.update();
    bars.stop();
    this.#bars = undefined;
    this.#bar = undefined;
  }

  /** Leave an unfinished phase's text on screen and stop its timer. */
  #settleSpinner(): void {
    this.#spinner?.stopAndPersist();
    this.#spinner = undefined;
  }
}

interface BarPayload {
  readonly epoch: string;
  readonly epochs: string;
  readonly smooth: string;
  readonly val: string;
  readonly speed: string;
  readonly remaining: string;
}

function placeholderPayload(): BarPayload {
  return { epoch: '-', epochs: '-', smooth: '-', val: '-', speed: '-', remaining: '-' };
}

function barPayload(stats: StepStats, etaSeconds: number | undefined): BarPayload {
  return {
    epoch: String(stats.epoch),
    epochs: String(Math.ceil(stats.epochs)),
    smooth: stats.smoothLoss.toFixed(3),
    val: stats.valLoss === undefined ? '-' : stats.valLoss.toFixed(3),
    speed: formatRate(stats.charsPerSec),
    remaining: formatDuration(etaSeconds),
  };
}
