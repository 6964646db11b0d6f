import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { loadCheckpoint, type CheckpointData } from '../checkpoint/index.js';
import { errorCode } from '../file-errors.js';
import { trainerHoldsLock } from '../folder-lock.js';
import { readHistory, readSamples, type HistoryRow, type SampleRecord } from '../history/index.js';
import { BEST_CHECKPOINT, LAST_CHECKPOINT, RUN_FILES } from '../run-folder.js';
import { etaSeconds, progressFacts, runState, summaryOf, type ProgressFacts, type RunSummary } from './run-summary.js';

/** A run that cannot be served now: `status` is the HTTP status that says why. */
export class RunUnavailable extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export interface RunDetail {
  readonly run: RunSummary;
  /** valLoss is null at the steps without validation (JSON has no undefined). */
  readonly history: (Omit<HistoryRow, 'valLoss'> & { readonly valLoss: number | null })[];
  readonly samples: SampleRecord[];
  readonly charsPerSec: number | null;
  readonly etaSeconds: number | null;
}

/** Where a served run lies: a folder found by listing the runs folder, or the one file of --checkpoint. */
interface RunEntry {
  readonly name: string;
  readonly folder: string;
  /** --checkpoint FILE: this file, trusted as the user named it; else the folder's checkpoints, checked to lie inside the runs folder. */
  readonly file?: string;
  vanished: boolean;
  lastSummary?: RunSummary;
}

const CHECKPOINTS_KEPT = 4;

/**
 * The runs `char-rnn serve` serves. Names come only from listing the runs folder (or the one
 * --checkpoint file), never from a request: a name a request gives is only looked up. Every file
 * read is resolved through symbolic links and must lie inside the runs folder.
 */
export class RunCatalog {
  private readonly entries = new Map<string, RunEntry>();
  private readonly facts = new FileCache<ProgressFacts>(Infinity, async (path) => progressFacts(await loadCheckpoint(path)));
  private readonly models = new FileCache<CheckpointData>(CHECKPOINTS_KEPT, loadCheckpoint);

  private constructor(private readonly root: string | undefined) {}

  static ofFolder(runsFolder: string): RunCatalog {
    return new RunCatalog(resolve(runsFolder));
  }

  static ofCheckpoint(file: string): RunCatalog {
    const catalog = new RunCatalog(undefined);
    const path = resolve(file);
    catalog.entries.set(basename(path), { name: basename(path), folder: dirname(path), file: path, vanished: false });
    return catalog;
  }

  /** Every run, newest first; runs whose folder went away since they were listed stay, with an error. */
  async list(): Promise<RunSummary[]> {
    await this.relist();
    const summaries = await Promise.all([...this.entries.values()].map((entry) => this.summary(entry)));
    return summaries.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.name.localeCompare(b.name));
  }

  async detail(name: string, since: number): Promise<RunDetail | undefined> {
    const entry = await this.find(name);
    if (entry === undefined) return undefined;
    const run = await this.summary(entry);
    if (run.error !== undefined) throw new RunUnavailable(run.error, entry.vanished ? 503 : 500);
    const progress = await this.progress(entry);
    const history = (await this.readInside(entry, 'history.csv', () => readHistory(entry.folder, { seqLength: progress?.seqLength })))?.rows ?? [];
    const samples = (await this.readInside(entry, 'samples.jsonl', () => readSamples(entry.folder)))?.samples ?? [];
    const last = history.at(-1);
    return {
      run,
      history: history.filter((row) => row.step > since).map((row) => ({ ...row, valLoss: row.valLoss ?? null })),
      samples: samples.filter((sample) => sample.step > since),
      charsPerSec: run.state === 'training' && last !== undefined ? last.charsPerSec : null,
      etaSeconds: etaSeconds(progress, history, run.state === 'training'),
    };
  }

  /** The checkpoint a run generates and scores with: its best.ckpt, else its last.ckpt. */
  async model(name: string): Promise<CheckpointData | undefined> {
    const entry = await this.find(name);
    if (entry === undefined) return undefined;
    const file = await this.checkpointFile(entry, [BEST_CHECKPOINT, LAST_CHECKPOINT]);
    if (file === undefined) throw new RunUnavailable(`run ${name} has no checkpoint yet: try again once it has saved one`, 503);
    return this.models.get(file);
  }

  private async find(name: string): Promise<RunEntry | undefined> {
    if (!this.entries.has(name)) await this.relist();
    return this.entries.get(name);
  }

  private async relist(): Promise<void> {
    if (this.root === undefined) return;
    let names: string[];
    try {
      names = (await readdir(this.root, { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      names = []; // not made yet: the first run will make it
    }
    const present = new Set(names);
    for (const entry of this.entries.values()) entry.vanished = !present.has(entry.name);
    for (const name of names) {
      if (this.entries.has(name)) continue;
      const folder = join(this.root, name);
      if ((await this.insideRoot(folder)) && (await holdsRunFiles(folder))) this.entries.set(name, { name, folder, vanished: false });
    }
  }

  private async summary(entry: RunEntry): Promise<RunSummary> {
    if (entry.vanished || !(await exists(entry.file ?? entry.folder))) {
      entry.vanished = true;
      const what = entry.file === undefined ? `the run folder ${entry.name}` : `the checkpoint ${entry.file}`;
      return { ...(entry.lastSummary ?? summaryOf(entry.name, undefined, 'stopped', undefined)), state: 'stopped', error: `${what} was deleted while the server ran` };
    }
    let training = false;
    try {
      training = entry.file === undefined && trainerHoldsLock(entry.folder);
    } catch {
      // an unreadable lock says nothing either way
    }
    const updated = await newestChange(entry);
    try {
      const progress = await this.progress(entry);
      entry.lastSummary = summaryOf(entry.name, progress, runState(training, progress), updated);
      return entry.lastSummary;
    } catch (error) {
      return { ...summaryOf(entry.name, undefined, runState(training, undefined), updated), error: messageOf(error) };
    }
  }

  /** The facts of the run's newest checkpoint (last.ckpt, else best.ckpt); undefined before its first. */
  private async progress(entry: RunEntry): Promise<ProgressFacts | undefined> {
    const file = await this.checkpointFile(entry, [LAST_CHECKPOINT, BEST_CHECKPOINT]);
    if (file === undefined) return undefined;
    return this.facts.get(file);
  }

  private async checkpointFile(entry: RunEntry, preference: readonly string[]): Promise<string | undefined> {
    if (entry.file !== undefined) return entry.file;
    for (const name of preference) {
      const path = join(entry.folder, name);
      if (await this.insideRoot(path)) return path;
    }
    return undefined;
  }

  private async readInside<T>(entry: RunEntry, file: string, read: () => Promise<T>): Promise<T | undefined> {
    if (entry.file === undefined && !(await this.insideRoot(join(entry.folder, file)))) return undefined;
    return read();
  }

  /** Whether path exists and, through every symbolic link, lies inside the runs folder (always, for --checkpoint). */
  private async insideRoot(path: string): Promise<boolean> {
    if (this.root === undefined) return exists(path);
    try {
      const [real, realRoot] = await Promise.all([realpath(path), realpath(this.root)]);
      return real.startsWith(realRoot + sep);
    } catch {
      return false;
    }
  }
}

/**
 * What load(path) gives, kept while the file's size, time and inode stay the same (a trainer
 * replaces a checkpoint by renaming a new file over it), for up to `size` files. Loads of one
 * file at once share one read; a failed load is not kept.
 */
class FileCache<T> {
  private readonly entries = new Map<string, { key: string; value: Promise<T> }>();

  constructor(private readonly size: number, private readonly load: (path: string) => Promise<T>) {}

  async get(path: string): Promise<T> {
    const info = await stat(path);
    const key = `${info.size}:${info.mtimeMs}:${info.ino}`;
    const hit = this.entries.get(path);
    if (hit !== undefined && hit.key === key) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit.value;
    }
    const entry = { key, value: this.load(path) };
    this.entries.delete(path);
    this.entries.set(path, entry);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
    entry.value.catch(() => {
      if (this.entries.get(path) === entry) this.entries.delete(path);
    });
    return entry.value;
  }
}

async function holdsRunFiles(folder: string): Promise<boolean> {
  const found = await Promise.all([...RUN_FILES, 'train.lock'].map((name) => exists(join(folder, name))));
  return found.some(Boolean);
}

async function newestChange(entry: RunEntry): Promise<number | undefined> {
  const paths = entry.file !== undefined ? [entry.file] : RUN_FILES.map((name) => join(entry.folder, name));
  const times = await Promise.all(paths.map((path) => stat(path).then((s) => s.mtimeMs, () => undefined)));
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
