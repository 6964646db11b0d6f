import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { GrowingFile } from './growing-file.js';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { decodeCheckpoint, loadCheckpoint, type CheckpointData } from '../checkpoint/index.js';
import { nodeSha256 } from '../checkpoint/node-sha256.js';
import { errorCode, fileError } from '../file-errors.js';
import { LOCK_FILE, trainerHoldsLock } from '../folder-lock.js';
import { HISTORY_FILE, parseHistory, parseSamples, SAMPLES_FILE, type HistoryRow, type SampleRecord } from '../history/index.js';
import { BEST_CHECKPOINT, LAST_CHECKPOINT, RUN_FILES } from '../run-folder.js';
import type { RunDetail, RunSummary } from './api-types.js';
import { etaSeconds, progressFacts, runState, summaryOf, type ProgressFacts } from './run-summary.js';

/** A run that cannot be served now: `status` is the HTTP status that says why. */
export class RunUnavailable extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
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
 *
 * The file system is asked synchronously (stat, realpath, readdir: microseconds each) because
 * under load every await of an asynchronous call waits a whole turn of the event loop, which
 * the generation streams make long: a request of ten such steps took seconds.
 */
export class RunCatalog {
  private readonly entries = new Map<string, RunEntry>();
  private readonly facts = new FileCache<ProgressFacts>(Infinity, async (path) => progressFacts(await loadCheckpointNow(path)));
  private readonly models = new FileCache<CheckpointData>(CHECKPOINTS_KEPT, loadCheckpointNow);
  private readonly histories = new Map<string, GrowingFile<HistoryRow>>();
  private readonly sampleFiles = new Map<string, GrowingFile<SampleRecord>>();

  private constructor(private readonly root: string | undefined) {}

  static ofFolder(runsFolder: string): RunCatalog {
    return new RunCatalog(resolve(runsFolder));
  }

  /** One checkpoint file, as a run named `name` (what the user named: the file, or the run folder it lies in). */
  static ofCheckpoint(file: string, name: string = basename(resolve(file))): RunCatalog {
    const catalog = new RunCatalog(undefined);
    const path = resolve(file);
    catalog.entries.set(name, { name, folder: dirname(path), file: path, vanished: false });
    return catalog;
  }

  /** Every run, newest first; runs whose folder went away since they were listed stay, with an error. */
  async list(): Promise<RunSummary[]> {
    this.relist();
    const summaries = await Promise.all([...this.entries.values()].map((entry) => this.summary(entry)));
    return summaries.sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.name.localeCompare(b.name));
  }

  async detail(name: string, since: number): Promise<RunDetail | undefined> {
    const entry = this.find(name);
    if (entry === undefined) return undefined;
    const run = await this.summary(entry);
    if (run.error !== undefined) throw new RunUnavailable(run.error, entry.vanished ? 503 : 500);
    const progress = await this.progress(entry);
    const historyPath = join(entry.folder, HISTORY_FILE);
    const history = this.readInside(entry, this.histories, historyPath, 1, (text) => parseHistory(text, historyPath, progress?.seqLength).rows);
    const samplesPath = join(entry.folder, SAMPLES_FILE);
    const samples = this.readInside(entry, this.sampleFiles, samplesPath, 0, (text) => parseSamples(text, samplesPath).samples);
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
    const entry = this.find(name);
    if (entry === undefined) return undefined;
    if (!(exists(entry.file ?? entry.folder))) {
      entry.vanished = true;
      throw new RunUnavailable(deletedMessage(entry), 503);
    }
    const file = this.checkpointFile(entry, [BEST_CHECKPOINT, LAST_CHECKPOINT]);
    if (file === undefined) throw new RunUnavailable(`run ${name} has no checkpoint yet: try again once it has saved one`, 503);
    return this.models.get(file);
  }

  private find(name: string): RunEntry | undefined {
    if (!this.entries.has(name)) this.relist();
    return this.entries.get(name);
  }

  private relist(): void {
    if (this.root === undefined) return;
    let names: string[];
    try {
      names = readdirSync(this.root, { withFileTypes: true }).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      names = []; // not made yet: the first run will make it
    }
    const present = new Set(names);
    for (const entry of this.entries.values()) entry.vanished = !present.has(entry.name);
    for (const name of names) {
      if (this.entries.has(name)) continue;
      const folder = join(this.root, name);
      if (this.insideRoot(folder) && this.holdsRunFiles(folder)) this.entries.set(name, { name, folder, vanished: false });
    }
  }

  private async summary(entry: RunEntry): Promise<RunSummary> {
    if (entry.vanished || !(exists(entry.file ?? entry.folder))) {
      entry.vanished = true;
      return { ...(entry.lastSummary ?? summaryOf(entry.name, undefined, 'stopped', undefined)), state: 'stopped', error: deletedMessage(entry) };
    }
    let training = false;
    try {
      training = entry.file === undefined && trainerHoldsLock(entry.folder);
    } catch {
      // an unreadable lock says nothing either way
    }
    const updated = newestChange(entry);
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
    const file = this.checkpointFile(entry, [LAST_CHECKPOINT, BEST_CHECKPOINT]);
    if (file === undefined) return undefined;
    return this.facts.get(file);
  }

  private checkpointFile(entry: RunEntry, preference: readonly string[]): string | undefined {
    if (entry.file !== undefined) return entry.file;
    for (const name of preference) {
      const path = join(entry.folder, name);
      if (this.insideRoot(path)) return path;
    }
    return undefined;
  }

  /** A run folder holds a file a run writes, or a trainer's lock; files linking out of the runs folder do not count. */
  private holdsRunFiles(folder: string): boolean {
    return [...RUN_FILES, LOCK_FILE].some((name) => this.insideRoot(join(folder, name)));
  }

  /** The items of a file of the run's folder; none when there is no such file (or it links out of the runs folder). */
  private readInside<T extends { step: number }>(entry: RunEntry, files: Map<string, GrowingFile<T>>, path: string, headerLines: number, parse: (text: string) => T[]): T[] {
    if (entry.file === undefined && !this.insideRoot(path)) return [];
    let file = files.get(path);
    if (file === undefined) {
      file = new GrowingFile<T>(path, headerLines, (before, after) => after.step > before.step || headerLines === 0);
      files.set(path, file);
    }
    try {
      return file.read(parse) ?? [];
    } catch (error) {
      throw fileError(error, `cannot read ${path}`, "it should be a file written by 'char-rnn train'");
    }
  }

  /** Whether path exists and, through every symbolic link, lies inside the runs folder (always, for --checkpoint). */
  private insideRoot(path: string): boolean {
    if (this.root === undefined) return exists(path);
    try {
      return realpathSync(path).startsWith(realpathSync(this.root) + sep);
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

  get(path: string): Promise<T> {
    const info = statSync(path);
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

/** loadCheckpoint, its file read at once (a few ms) rather than in the four turns of the event loop an asynchronous read takes. */
async function loadCheckpointNow(path: string): Promise<CheckpointData> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return loadCheckpoint(path); // its own words for a file it cannot read
  }
  return decodeCheckpoint(bytes, path, nodeSha256);
}

function deletedMessage(entry: RunEntry): string {
  const what = entry.file === undefined ? `the run folder ${entry.name}` : `the checkpoint ${entry.file}`;
  return `${what} was deleted while the server ran`;
}

function newestChange(entry: RunEntry): number | undefined {
  const paths = entry.file !== undefined ? [entry.file] : RUN_FILES.map((name) => join(entry.folder, name));
  const known = paths.map((path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs).filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
