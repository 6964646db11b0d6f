/**
 * The Python yardsticks run beside our benchmark: numpy_rnn.py (../shared/peers, never part of the
 * project) and bench/peers/torch_rnn.py (the same algorithm in PyTorch). Each prints one line with
 * `chars/s=N`. A missing or failing peer is reported and skipped; it never stops the benchmark.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, spawnOutput } from './format.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url)); // this file runs as dist/bench/peers.js
export const SEQ_LENGTH = 25; // T: the trainer's default, and the peers' fixed SEQ

/** One peer configuration, run once per round; its rates are chars/s, one per run. */
export interface PeerConfig {
  readonly label: string; // "numpy f64, 1 BLAS thread"
  readonly streams: number;
  readonly vocab: number | undefined; // K of the peer's training text, for its GFLOP/s
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly rates: number[];
  failure: string | undefined; // set when a run failed: this configuration is dropped, the rest go on
}

export interface PythonPeer {
  readonly name: 'numpy' | 'torch';
  readonly script: string;
  readonly python: string;
  readonly versions: string; // "python 3.12.3, numpy 2.5.2"
  readonly vocab: number | undefined;
}

export function pythonCommand(): string {
  return process.env.PYTHON ?? 'python3';
}

/** numpy_rnn.py: --numpy PATH, else $NUMPY_PEER, else ../shared/peers/numpy_rnn.py beside the repo. */
export function numpyScript(given: string | undefined): string {
  return given ?? process.env.NUMPY_PEER ?? resolve(repoRoot, '../shared/peers/numpy_rnn.py');
}

/** torch_rnn.py: --torch PATH, else $TORCH_PEER; undefined means no torch rows. */
export function torchScript(given: string | undefined): string | undefined {
  return given ?? process.env.TORCH_PEER;
}

/** The peer, or why it is skipped. Never throws. */
export async function findPeer(name: 'numpy' | 'torch', script: string): Promise<PythonPeer | string> {
  if (!existsSync(script)) {
    const what = name === 'numpy' ? 'numpy_rnn.py, the seed\'s algorithm in numpy,' : 'the PyTorch peer';
    const where = name === 'numpy' ? '--numpy FILE or NUMPY_PEER' : '--torch FILE or TORCH_PEER';
    return `${what} is not at ${script}: it is the team's yardstick, kept in shared/peers/ beside a checkout, not in the package; pass its path with ${where} (it needs python3 with ${name})`;
  }
  const python = pythonCommand();
  const code = `import platform, ${name}; print(platform.python_version(), ${name}.__version__)`;
  try {
    const [pythonVersion, version] = (await spawnOutput(python, ['-c', code])).trim().split(' ');
    return { name, script, python, versions: `python ${pythonVersion}, ${name} ${version}`, vocab: peerVocab(script) };
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} is not on the PATH` : `${python} cannot import ${name}: ${firstLine(error)}`;
  }
}

/**
 * K of the peers' default training text (numpy_rnn.py's data/sotu_train.txt, or $PEERS_DATA's), or
 * undefined if unreadable. torch_rnn.py reads the same file.
 */
export function peerVocab(script: string): number | undefined {
  const candidates = [join(dirname(script), 'data/sotu_train.txt'), join(peersDataDir(), 'sotu_train.txt')];
  const path = candidates.find((p) => existsSync(p));
  return path === undefined ? undefined : new Set(readFileSync(path, 'utf8')).size;
}

/** Where sotu_train.txt and sotu_val.txt are: $PEERS_DATA, else ../shared/peers/data. */
export function peersDataDir(): string {
  return process.env.PEERS_DATA ?? resolve(repoRoot, '../shared/peers/data');
}

/** Updates per peer run so that each run trains about `chars` characters. */
export function updatesFor(chars: number, streams: number): number {
  return Math.max(1, Math.ceil(chars / (streams * SEQ_LENGTH)));
}

export function numpyConfig(peer: PythonPeer, streams: number, blasThreads: number, chars: number): PeerConfig {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(blasThreads), OMP_NUM_THREADS: String(blasThreads), MKL_NUM_THREADS: String(blasThreads) };
  return {
    label: `numpy f64, ${blasThreads} BLAS thread${blasThreads === 1 ? '' : 's'}`,
    streams,
    vocab: peer.vocab,
    command: peer.python,
    args: [peer.script, '--streams', String(streams), '--updates', String(updatesFor(chars, streams))],
    env,
    rates: [],
    failure: undefined,
  };
}

export function torchConfig(peer: PythonPeer, streams: number, threads: number, dtype: string, chars: number): PeerConfig {
  const short = dtype === 'float32' ? 'f32' : 'f64';
  const args = [peer.script, '--streams', String(streams), '--updates', String(updatesFor(chars, streams)), '--threads', String(threads), '--dtype', dtype];
  const data = peersDataDir();
  if (existsSync(join(data, 'sotu_train.txt'))) args.push('--train', join(data, 'sotu_train.txt'));
  return {
    label: `torch ${short}, ${threads} thread${threads === 1 ? '' : 's'}`,
    streams,
    vocab: peer.vocab,
    command: peer.python,
    args,
    env: process.env,
    rates: [],
    failure: undefined,
  };
}

/** One run of a peer configuration: its chars/s, or NaN once it has failed. */
export async function runPeerTurn(config: PeerConfig): Promise<number> {
  if (config.failure !== undefined) return Number.NaN;
  try {
    const out = await spawnOutput(config.command, config.args, config.env);
    const match = /chars\/s=(\d+(?:\.\d+)?)/.exec(out);
    if (match === null) throw new Error(`printed no chars/s=: ${out.trim()}`);
    const rate = Number(match[1]);
    config.rates.push(rate);
    return rate;
  } catch (error) {
    config.failure = firstLine(error);
    process.stderr.write(`${config.label}, streams ${config.streams} dropped: ${config.failure}\n`);
    return Number.NaN;
  }
}
