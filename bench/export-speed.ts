/**
 * Export and import times of a model of about a million parameters (GRU, 2 layers of 280, K = 98:
 * P = 1,054,018), each a whole `char-rnn` process as a user runs it, beside the time such a
 * process takes to start and print its version.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/index.js';
import { spawnOutput } from './format.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface ExportSpeed {
  readonly parameters: number;
  readonly startMs: number[];
  readonly safetensorsMs: number[];
  readonly onnxMs: number[];
  readonly importMs: number[];
}

export async function measureExports(runs: number): Promise<ExportSpeed> {
  const folder = mkdtempSync(join(tmpdir(), 'char-rnn-export-bench-'));
  const cli = async (args: readonly string[]): Promise<number> => {
    const started = performance.now();
    await spawnOutput(process.execPath, [CLI, ...args]);
    return performance.now() - started;
  };
  try {
    // 98 symbols: printable ASCII, newline, and two more
    const symbols = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}\né—`;
    const corpus = join(folder, 'corpus.txt');
    writeFileSync(corpus, symbols.repeat(200));
    const run = join(folder, 'run');
    await cli(['train', '--corpus', corpus, '--cell', 'gru', '--layers', '2', '--hidden', '280', '--steps', '1', '--streams', '2', '--seq-length', '10', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', run]);
    const checkpoint = join(run, 'last.ckpt');
    const parameters = (await loadCheckpoint(checkpoint)).state.params.length;
    const result = { parameters, startMs: [] as number[], safetensorsMs: [] as number[], onnxMs: [] as number[], importMs: [] as number[] };
    for (let i = 0; i < runs; i++) {
      result.startMs.push(await cli(['--version']));
      result.safetensorsMs.push(await cli(['export', '--checkpoint', checkpoint, '--out', join(folder, 'export'), '--force']));
      result.onnxMs.push(await cli(['export', '--checkpoint', checkpoint, '--format', 'onnx', '--out', join(folder, 'model.onnx'), '--force']));
      result.importMs.push(await cli(['import', '--from', join(folder, 'export'), '--force']));
    }
    return result;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
