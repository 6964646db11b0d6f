/**
 * The library entry of parallel-char-rnn: train a model, load a checkpoint written by training,
 * and sample text from it.
 *
 *   import { loadCheckpoint, sample, train } from 'parallel-char-rnn';
 *   const { checkpoint } = await train({ corpus: 'speeches.txt', minutes: 5 }).result;
 *   const text = sample(checkpoint, { length: 500, temperature: 0.8, prime: 'The Congress', seed: 7 });
 */
export { resume, train, type TrainResult, type TrainRun } from './api/train.js';
export type { CorpusText, LibraryOptions, ResumeOptions, TrainFlags, TrainOptions } from './api/options.js';
export type { CheckpointEvent, DoneEvent, EvaluationEvent, NoteEvent, SampleEvent, StepEvent, TrainEvent } from './train/events.js';
export type { TrainConfig } from './config.js';
export { checkpointFromBytes, loadCheckpoint, type CheckpointData } from './checkpoint/index.js';
export { MachineError, TrainingError, UserError } from './errors.js';
export {
  generate, generateStream, randomSeed, sample, sampleMany, type SampleManyOptions, type SampleOptions, type StreamOptions,
} from './generate.js';
export { kernelsAvailable } from './model/kernels.js';
export { scoreText, type ScoreTextOptions, type TextScore } from './score-text.js';
export { readHistory, readSamples, type HistoryRow, type SampleRecord } from './history/index.js';
export { writeReport, type ReportFiles, type ReportOptions } from './report/index.js';
