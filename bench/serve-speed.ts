/**
 * char-rnn serve's speeds on loopback, the server a whole `char-rnn serve` process as a user runs
 * it, serving the default model (GRU, 2 layers of 128, K = 98, float32) trained one step:
 * generation in characters per second (the server makes them on one thread) and the time from
 * sending a request to its first characters. One client at a time, so each figure is the server's alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { group, median, range, spawnOutput } from './format.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const GENERATION_LENGTH = 100_000;

export interface ServeSpeed {
  /** chars/s of a 100,000-character generation, from sending the request to its done event. */
  readonly charsPerSec: number[];
  /** The same per second of the server's CPU time (Linux: /proc), steadier on a machine busy with other work. */
  readonly charsPerCpuSec: number[];
  /** ms from sending a request (no prime) to its first characters. */
  readonly firstCharacterMs: number[];
  /** The same with a prime of 1,000 characters, which the model reads first. */
  readonly firstCharacterPrimedMs: number[];
}

export async function measureServe(runs: number): Promise<ServeSpeed> {
  const folder = mkdtempSync(join(tmpdir(), 'char-rnn-serve-bench-'));
  const symbols = `${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}\né—`;
  const corpus = join(folder, 'corpus.txt');
  writeFileSync(corpus, symbols.repeat(200));
  await spawnOutput(process.execPath, [CLI, 'train', '--corpus', corpus, '--steps', '1', '--streams', '2', '--seq-length', '10', '--eval-every', '0', '--sample-every', '0', '--no-report', '--out', join(folder, 'runs', 'run-1')]);
  const server = spawn(process.execPath, [CLI, 'serve', '--runs', join(folder, 'runs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (part: Buffer) => {
        out += part.toString();
        const match = /listening on (http:\/\/[^/\s]+)\//.exec(out);
        if (match !== null) resolve(match[1]);
      });
      server.on('exit', (code) => reject(new Error(`char-rnn serve exited with code ${code}`)));
    });
    const prime = symbols.repeat(11).slice(0, 1000);
    const result: ServeSpeed = { charsPerSec: [], charsPerCpuSec: [], firstCharacterMs: [], firstCharacterPrimedMs: [] };
    await timeGeneration(origin, { length: 1000, seed: 0 }); // load the checkpoint, warm up the JIT
    for (let run = 0; run < runs; run++) {
      const cpuBefore = cpuSeconds(server.pid);
      const long = await timeGeneration(origin, { length: GENERATION_LENGTH, seed: run + 1 });
      result.charsPerSec.push(GENERATION_LENGTH / (long.totalMs / 1000));
      const cpu = cpuSeconds(server.pid) - cpuBefore;
      if (Number.isFinite(cpu) && cpu > 0) result.charsPerCpuSec.push(GENERATION_LENGTH / cpu);
      for (let i = 0; i < 3; i++) {
        result.firstCharacterMs.push((await timeGeneration(origin, { length: 200, seed: run * 3 + i })).firstMs);
        result.firstCharacterPrimedMs.push((await timeGeneration(origin, { length: 200, seed: run * 3 + i, prime })).firstMs);
      }
    }
    return result;
  } finally {
    server.kill('SIGTERM');
    rmSync(folder, { recursive: true, force: true });
  }
}

/** CPU seconds (user + system) of a process, from /proc/<pid>/stat; NaN where there is none. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Sends one generation request and reads it to the end: ms to its first data event and to its end. */
function timeGeneration(origin: string, body: object): Promise<{ firstMs: number; totalMs: number }> {
  const { hostname, port } = new URL(origin);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: '/api/runs/run-1/generate', method: 'POST' }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      let firstMs: number | undefined;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => {
        firstMs ??= performance.now() - started;
        text += part;
      });
      res.on('end', () => {
        if (!text.includes('event: done')) reject(new Error(`the stream ended without a done event: ${text.slice(-200)}`));
        else resolve({ firstMs: firstMs ?? Number.NaN, totalMs: performance.now() - started });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The lines of the benchmark's report for measureServe. */
export function serveReport(speed: ServeSpeed, runs: number): string {
  const ms = (values: number[]): string => `${median(values).toFixed(1)} ms (${values.map((v) => v.toFixed(1)).join(', ')})`;
  return (
    `\nchar-rnn serve on loopback, the default model (gru, L=2, H=128, K=98, float32), one client at a time, median of ${runs}:\n` +
    `  generation, ${group(GENERATION_LENGTH)} characters   ${group(median(speed.charsPerSec)).padStart(9)} chars/s   (${range(speed.charsPerSec)})` +
    (speed.charsPerCpuSec.length === 0 ? '\n' : `, ${group(median(speed.charsPerCpuSec))} per CPU second of the server (${range(speed.charsPerCpuSec)})\n`) +
    `  time to first character         ${ms(speed.firstCharacterMs)}\n` +
    `  the same after a 1,000-character prime   ${ms(speed.firstCharacterPrimedMs)}\n`
  );
}

// node dist/bench/serve-speed.js [runs]: this section of npm run bench alone
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const runs = Number(process.argv[2] ?? 5);
  process.stdout.write(serveReport(await measureServe(runs), runs));
}
