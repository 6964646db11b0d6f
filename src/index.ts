/**
 * The library entry of parallel-char-rnn: load a checkpoint written by 'char-rnn train' and
 * sample text from it.
 *
 *   import { loadCheckpoint, sample } from 'parallel-char-rnn';
 *   const checkpoint = await loadCheckpoint('checkpoints/best.ckpt');
 *   const text = sample(checkpoint, { length: 500, temperature: 0.8, prime: 'The Congress', seed: 7 });
 */
export { loadCheckpoint, type CheckpointData } from './checkpoint/index.js';
export { UserError } from './errors.js';
export { generate, randomSeed, sample, type SampleOptions } from './generate.js';
export { scoreText, type ScoreTextOptions, type TextScore } from './score-text.js';
export { readHistory, readSamples, type HistoryRow, type SampleRecord } from './history/index.js';
export { writeReport, type ReportFiles, type ReportOptions } from './report/index.js';
