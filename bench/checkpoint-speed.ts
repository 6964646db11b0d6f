/**
 * Save and load times of a checkpoint with about a million parameters (H = 512, K = 720:
 * P = 1,000,656), through the real atomic save (temporary file, fsync, rename, folder fsync).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, nominalOptions, saveCheckpoint, type CheckpointData } from '../src/checkpoint/index.js';
import { paramLayout } from '../src/model/cells/rnn-layout.js';
import { Prng } from '../src/model/prng.js';

export interface CheckpointSpeed {
  readonly parameters: number;
  readonly fileBytes: number;
  readonly saveMs: number[];
  readonly loadMs: number[];
}

export async function measureCheckpoints(runs: number): Promise<CheckpointSpeed> {
  const H = 512;
  const K = 720;
  const B = 16;
  const layout = paramLayout({ H, K });
  const prng = Prng.fromSeed(1);
  const tensor = (length: number): Float64Array => Float64Array.from({ length }, () => prng.nextGaussian());
  const data: CheckpointData = {
    packageVersion: 'bench',
    createdAt: new Date(0).toISOString(),
    model: { cell: 'rnn', L: 1, H, K, vocab: Uint32Array.from({ length: K }, (_, k) => 32 + k) },
    options: nominalOptions({ seqLength: 25, streams: B, threads: 2, eta: 0.1, steps: undefined, evalEvery: 2000, sampleEvery: 1000 }),
    corpus: { source: 'bench', length: 10_000_000, sha256: new Uint8Array(32) },
    state: {
      step: 10_000, epoch: 1, position: 250_000, streamLength: 600_000, charsSeen: 4_000_000, seconds: 0,
      params: tensor(layout.size), optimizerState: tensor(layout.size).map(Math.abs), hidden: tensor(B * H), prngState: prng.state(),
      smoothLoss: 45, bestLoss: 1.9, bestStep: 10_000, bestMetric: 'val', valLoss: 1.9,
      smoothHistory: Array.from({ length: 1000 }, (_, i) => ({ step: 10 * (i + 1), loss: 50 })),
      valHistory: Array.from({ length: 5 }, (_, i) => ({ step: 2000 * (i + 1), loss: 2 })),
    },
  };
  const folder = mkdtempSync(join(tmpdir(), 'char-rnn-bench-'));
  const path = join(folder, 'last.ckpt');
  const result = { parameters: layout.size, fileBytes: 0, saveMs: [] as number[], loadMs: [] as number[] };
  try {
    for (let run = 0; run <= runs; run++) {
      let started = performance.now();
      await saveCheckpoint(path, data);
      const saveMs = performance.now() - started;
      started = performance.now();
      await loadCheckpoint(path);
      const loadMs = performance.now() - started;
      if (run === 0) continue; // the first round warms up the JIT and the protobuf schema
      result.saveMs.push(saveMs);
      result.loadMs.push(loadMs);
    }
    result.fileBytes = statSync(path).size;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return result;
}
