/**
 * Trains the same run with 1 thread and with N threads (fresh processes through the CLI) and
 * compares the checkpoints' parameters, AdaGrad memory and hidden states bit for bit: the thread
 * count must change the speed, never the numbers. Usage: node dist/bench/same-numbers.js CORPUS N
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCheckpoint } from '../src/checkpoint/index.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const [corpus, threads = '16', streams = '64', steps = '40'] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'same-numbers-'));
try {
  const run = async (n: string): Promise<Awaited<ReturnType<typeof loadCheckpoint>>> => {
    const out = join(dir, `threads-${n}`);
    execFileSync(process.execPath, [cli, 'train', '--corpus', corpus, '--streams', streams, '--steps', steps, '--threads', n,
      '--val-frac', '0', '--sample-every', '0', '--no-report', '--out', out], { stdio: 'ignore' });
    return loadCheckpoint(join(out, 'last.ckpt'));
  };
  const one = (await run('1')).state;
  const many = (await run(threads)).state;
  const same = (a: Float64Array, b: Float64Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  const verdicts = {
    params: same(one.params, many.params),
    optimizerState: same(one.optimizerState, many.optimizerState),
    hidden: same(one.hidden, many.hidden),
    smoothLoss: Object.is(one.smoothLoss, many.smoothLoss),
  };
  const ok = Object.values(verdicts).every(Boolean);
  console.log(`${streams} streams, ${steps} steps, 1 vs ${threads} threads: ${ok ? 'bit-identical' : 'DIFFERENT'} ${JSON.stringify(verdicts)}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
