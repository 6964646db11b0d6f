import cliProgress from 'cli-progress';
import ora, { type Ora } from 'ora';
import type { Clock, Reporter, StepStats } from './reporter.js';
import { barLine } from './bar-line.js';
import { streamHasColors } from './colors.js';
import { EtaClock } from './eta-clock.js';
import { formatDuration, formatRate } from './format.js';

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const DEFAULT_COLOR = '\x1b[39m';

/**
 * A spinner for each phase before training, then one progress bar. cli-progress redraws the bar
 * on its own 10 fps timer, from the last stats update() kept, fitted to the terminal's width at
 * that moment (so a resize takes effect at the next redraw).
 */
export class InteractiveReporter implements Reporter {
  #spinner: Ora | undefined;
  #bars: cliProgress.MultiBar | undefined;
  #eta: EtaClock | undefined;
  #start: { readonly step: number; readonly totalSteps: number } | undefined;
  #last: StepStats | undefined;
  #evaluatingSince: number | undefined;
  #finished = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: Clock,
  ) {}

  begin(text: string): void {
    this.#settleSpinner();
    // discardStdin puts stdin in raw mode, which delays Ctrl+C while corpus loading blocks the loop.
    // chalk, which colors ora's spinner, ignores NO_COLOR: the stream decides.
    const color = streamHasColors(this.stream) ? 'cyan' : false;
    this.#spinner = ora({ text, stream: this.stream, isEnabled: true, discardStdin: false, color }).start();
  }

  done(text: string): void {
    if (this.#spinner === undefined) {
      this.log(text);
      return;
    }
    this.#spinner.stopAndPersist({ symbol: this.#paint('✔', GREEN), text });
    this.#spinner = undefined;
  }

  fail(text: string): void {
    this.#spinner?.stopAndPersist({ symbol: this.#paint('✖', RED), text });
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
    this.#evaluatingSince = undefined;
    this.#start = { step: startStep, totalSteps };
    this.#eta = new EtaClock(startStep);
    this.#bars = new cliProgress.MultiBar({
      stream: this.stream,
      format: (_options, params) => this.#line(params.maxWidth),
      hideCursor: true,
      clearOnComplete: false,
      // Keep terminal line wrapping on so long samples printed by log() are not cut off.
      linewrap: true,
      // After log() the bar line is blank although its text is unchanged; redraw regardless.
      forceRedraw: true,
    });
    this.#bars.create(totalSteps, startStep);
  }

  update(stats: StepStats): void {
    if (this.#finished) return;
    if (this.#bars === undefined) this.startTraining(stats.totalSteps, stats.step - 1);
    // Only kept: the next redraw formats it.
    this.#last = stats;
  }

  startEvaluation(_step: number): void {
    this.#evaluatingSince = this.now();
  }

  endEvaluation(): void {
    this.#evaluatingSince = undefined;
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

  /** The bar's line for a terminal `columns` wide; one column is left free, where some terminals would wrap. */
  #line(columns: number): string {
    const stats = this.#last;
    const start = this.#start;
    let speed = stats === undefined ? '-' : `${formatRate(stats.charsPerSec)} chars/s`;
    if (this.#evaluatingSince !== undefined) {
      const seconds = (this.now() - this.#evaluatingSince) / 1000;
      speed = seconds < 1 ? 'evaluating…' : `evaluating… ${formatDuration(seconds)}`;
    }
    const standing = stats === undefined ? undefined : this.#eta?.standing(stats);
    return barLine({
      step: stats?.step ?? start?.step ?? 0,
      totalSteps: stats?.totalSteps ?? start?.totalSteps ?? 0,
      progress: standing?.fraction ?? 0,
      byTime: standing?.byTime ?? false,
      epoch: stats?.epoch,
      epochs: stats?.epochs,
      recentLoss: stats?.recentLoss,
      recentSteps: stats?.recentSteps ?? 0,
      valLoss: stats?.valLoss,
      speed,
      eta: formatDuration(standing?.eta),
    }, columns - 1);
  }

  #stopBar(): void {
    const bars = this.#bars;
    if (bars === undefined) return;
    // update() renders the bars with the last stats and flushes pending log() text; stop() does not flush.
    bars.update();
    bars.stop();
    this.#bars = undefined;
  }

  /** Leave an unfinished phase's text on screen and stop its timer. */
  #settleSpinner(): void {
    this.#spinner?.stopAndPersist();
    this.#spinner = undefined;
  }

  #paint(text: string, color: string): string {
    return streamHasColors(this.stream) ? `${color}${text}${DEFAULT_COLOR}` : text;
  }
}
