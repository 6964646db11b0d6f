/**
 * The package's browser entry, 'parallel-char-rnn/browser': what runs on a checkpoint's bytes
 * with no Node module behind it, so that a page samples and scores with the same code, and the
 * same bits, as Node. Sampling takes the WebAssembly kernels, on shared memory where the page
 * is cross-origin isolated and on an ordinary one elsewhere; the reference math only where the
 * engine lacks WebAssembly SIMD (kernelsAvailable() says which).
 *
 *   import { checkpointFromBytes, generateStream } from 'parallel-char-rnn/browser';
 *   const checkpoint = checkpointFromBytes(new Uint8Array(await (await fetch('best.ckpt')).arrayBuffer()));
 *   for await (const chunk of generateStream(checkpoint, { length: 500, temperature: 0.8 })) output.append(chunk);
 */
export { checkpointFromBytes, type CheckpointData } from './checkpoint/browser.js';
export type { RunnableModel } from './checkpoint/data.js';
export { MachineError, TrainingError, UserError } from './errors.js';
export {
  generate, generateStream, randomSeed, sample, sampleMany, type SampleManyOptions, type SampleOptions, type StreamOptions,
} from './generate.js';
export { kernelsAvailable } from './model/kernels.js';
export { scoreText, type ScoreTextOptions, type TextScore } from './score-text.js';
export { scorePositions, type PositionScore, type PositionScores } from './score-positions.js';
export { decodeWebModel, type WebModel, type WebModelInfo } from './export/web-model.js';
