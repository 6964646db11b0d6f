import type { CheckpointData } from '../checkpoint/index.js';

/**
 * What a training run tells its caller as it goes: the events of the library's train() and
 * resume(). Losses are in nats per character; steps count from the start of the run.
 */
export type TrainEvent = StepEvent | EvaluationEvent | SampleEvent | CheckpointEvent | NoteEvent | DoneEvent;

/** A training step finished. */
export interface StepEvent {
  readonly type: 'step';
  readonly step: number;
  /** The run's planned steps; Infinity when only a time budget bounds it. */
  readonly totalSteps: number;
  readonly epoch: number;
  /** This step's training loss, the mean over the streams, in nats per character. */
  readonly loss: number;
  /** The seed's smooth loss: the step losses' 0.999 moving average, in nats per character. */
  readonly smoothLoss: number;
  /** Characters per second of training time in this session. */
  readonly charsPerSec: number;
  /** Seconds of training time in this session, evaluations and saves left out. */
  readonly seconds: number;
}

/** The held-out text was evaluated. */
export interface EvaluationEvent {
  readonly type: 'evaluation';
  readonly step: number;
  /** The validation loss in nats per character. */
  readonly valLoss: number;
  /** Whether it is the lowest so far, so that best.ckpt now holds this step. */
  readonly best: boolean;
}

/** The model wrote a sample (every sampleEvery steps). */
export interface SampleEvent {
  readonly type: 'sample';
  readonly step: number;
  readonly epoch: number;
  readonly text: string;
}

/** A checkpoint was saved, whole (saves are atomic). */
export interface CheckpointEvent {
  readonly type: 'checkpoint';
  readonly step: number;
  /** 'last': where the run stands; 'best': the lowest validation loss (smooth loss without held-out text). */
  readonly kind: 'last' | 'best';
  readonly path: string;
}

/** Something the user should know that is not a failure (files recovered, how long a resumed run goes on, a damaged history row skipped). */
export interface NoteEvent {
  readonly type: 'note';
  readonly message: string;
}

/** Training ended and its checkpoints are saved; the report, if any, comes after. */
export interface DoneEvent {
  readonly type: 'done';
  readonly step: number;
  readonly epoch: number;
  /** Why it ended: its planned length, an abort, --patience, or the time budget (--minutes). */
  readonly stoppedBy: 'end' | 'abort' | 'patience' | 'minutes';
  /** The seed's smooth loss (a 0.999 moving average, lagging in a short run), nats per character. */
  readonly smoothLoss: number;
  /** The last validation loss, the run's headline; undefined without held-out text. */
  readonly valLoss: number | undefined;
  /** The mean training loss of the last 100 steps: the headline without held-out text. */
  readonly recentLoss: number;
  readonly lastPath: string;
}

/** What the training loop returns once its checkpoints are saved. */
export interface TrainResult {
  readonly interrupted: boolean;
  /** Why the run ended before its last step without being interrupted: --patience or --minutes. */
  readonly stoppedEarly: 'patience' | 'minutes' | undefined;
  /** The state after the last step, as saved in lastPath. */
  readonly last: CheckpointData;
  readonly lastPath: string;
  /** Where the state with the lowest tracked loss was saved (validation loss, or smooth loss without a validation split). */
  readonly bestPath: string;
  readonly seconds: number;
  readonly charsPerSec: number;
  /** The training loss per character over the last RECENT_STEPS steps (all of them while fewer were done), and over how many. */
  readonly recentLoss: number;
  readonly recentSteps: number;
}
