import { existsSync } from 'node:fs';
import type { CheckpointData } from '../checkpoint/index.js';
import type { TrainConfig, TrainRequest } from '../config.js';
import { createReporter, silentReporter, type Reporter } from '../progress.js';
import type { ReportFiles } from '../report/index.js';
import type { DoneEvent, TrainEvent } from '../train/events.js';
import { EventQueue } from './events.js';
import { requestFrom, type CorpusText, type LibraryOptions, type ResumeOptions, type TrainOptions } from './options.js';
import { runTraining, type RunOutcome } from './run.js';

/** What a finished run left. Losses are in nats per character. */
export interface TrainResult {
  /** Why it ended: its planned length, an abort, `patience`, or the time budget (`minutes`). */
  readonly stoppedBy: DoneEvent['stoppedBy'];
  readonly step: number;
  readonly epoch: number;
  readonly charsSeen: number;
  /** The seed's smooth loss: a 0.999 moving average of the step losses, which lags far behind in a short run. */
  readonly smoothLoss: number;
  /** The last validation loss; undefined with valFrac 0. */
  readonly valLoss: number | undefined;
  /** The mean training loss of the last 100 steps (of all of them while fewer were done): the headline without validation. */
  readonly recentLoss: number;
  /** Wall-clock seconds of the training loop in this session, and its speed over them. */
  readonly seconds: number;
  readonly charsPerSec: number;
  /** The run's folder. */
  readonly out: string;
  /** last.ckpt: the state after the last step, from which resume() goes on. */
  readonly lastPath: string;
  /** best.ckpt, the lowest validation loss (smooth loss with valFrac 0); undefined when there is none in out. */
  readonly bestPath: string | undefined;
  /** The state after the last step, as saved in lastPath: pass it to sample() or generate(). */
  readonly checkpoint: CheckpointData;
  /** Every option of the run, defaults filled in (a resumed run's, its checkpoint's). */
  readonly config: TrainConfig;
  /** The report's files, unless noReport, an abort, or a failure (then reportProblem says why). */
  readonly report: ReportFiles | undefined;
  readonly reportProblem: string | undefined;
}

/** A training run under way: iterate it for its events, await `result` for the end. */
export interface TrainRun extends AsyncIterable<TrainEvent> {
  /** Resolves once training ended, its checkpoints are saved and the report written; rejects with a UserError, TrainingError or MachineError. */
  readonly result: Promise<TrainResult>;
}

/**
 * Trains a model as 'char-rnn train' does with the same options, to the same numbers bit for
 * bit. Bad options throw a UserError here, before anything starts; everything later rejects
 * `result` (and ends the events with the error). Nothing is printed unless `progress` is set.
 *
 *   const run = train({ corpus: { text }, steps: 200, out: 'runs/tiny' });
 *   for await (const event of run) if (event.type === 'evaluation') console.log(event.valLoss);
 *   const { checkpoint } = await run.result;
 */
export function train(options: TrainOptions = {}): TrainRun {
  const { request, text } = requestFrom(options);
  return start(request, text, options);
}

/**
 * Goes on with the run saved in `checkpoint` (a checkpoint file, or a run folder for its
 * last.ckpt) exactly as 'char-rnn train --resume' does: the same numbers as a run never stopped.
 */
export function resume(checkpoint: string, options: ResumeOptions = {}): TrainRun {
  const { request, text } = requestFrom(options, checkpoint);
  return start(request, text, options);
}

function start(request: TrainRequest, text: CorpusText | undefined, options: LibraryOptions): TrainRun {
  const events = new EventQueue();
  const result = runTraining(request, { reporter: reporterFor(options.progress), text, signal: options.signal, onEvent: (event) => events.push(event) }).then(
    (outcome) => {
      events.end();
      return resultOf(outcome);
    },
    (error: unknown) => {
      events.fail(error);
      throw error;
    },
  );
  // A reader of the events gets the error there; result rejects for whoever awaits it.
  result.catch(() => undefined);
  return { result, [Symbol.asyncIterator]: () => events[Symbol.asyncIterator]() };
}

function reporterFor(progress: LibraryOptions['progress']): Reporter {
  if (progress === undefined || progress === false) return silentReporter;
  return createReporter({ stream: progress === true ? process.stderr : progress });
}

function resultOf({ config, trained, stoppedBy, report, reportProblem }: RunOutcome): TrainResult {
  const { state } = trained.last;
  return {
    stoppedBy, step: state.step, epoch: state.epoch, charsSeen: state.charsSeen, smoothLoss: state.smoothLoss / config.seqLength, valLoss: state.valLoss, recentLoss: trained.recentLoss,
    seconds: trained.seconds, charsPerSec: trained.charsPerSec, out: config.out, lastPath: trained.lastPath, bestPath: existsSync(trained.bestPath) ? trained.bestPath : undefined,
    checkpoint: trained.last, config, report, reportProblem,
  };
}
