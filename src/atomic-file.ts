import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { errorCode } from './file-errors.js';

/**
 * Replaces `path` atomically: the data goes to a temporary file beside it, is synced, and is
 * renamed over it, then the folder is synced so that the rename survives a crash. A reader sees
 * the old file or the new one, never a part; on failure the old file is untouched and the
 * temporary file removed. Creates the folder if needed. Errors are the file system's, unmapped.
 * The temporary file is named `.NAME.PID.RANDOM.tmp`, which removeStaleTemporaryFiles() knows.
 */
export async function replaceFileAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await replaceFilesAtomically([[path, data]]);
}

/**
 * replaceFileAtomically for several files at once, all or none: every new file is written and
 * synced before the first rename, so a full disk or a failed write leaves every old file as it
 * was. (A crash between two renames can still leave some replaced and some not.)
 */
export async function replaceFilesAtomically(files: readonly (readonly [path: string, data: Uint8Array | string])[]): Promise<void> {
  const written: [temp: string, path: string][] = [];
  try {
    for (const [path, data] of files) written.push([await writeTemporaryFile(path, data), path]);
    for (const [temp, path] of written) await rename(temp, path);
  } catch (error) {
    await Promise.all(written.map(([temp, path]) => removeTemporaryFile(temp, path, error)));
    throw error;
  } finally {
    for (const [temp] of written) unfinished.delete(temp);
  }
  for (const folder of new Set(files.map(([path]) => dirname(path)))) await syncFolder(folder);
}

/** The data in a synced temporary file beside path; on failure nothing is left behind. */
async function writeTemporaryFile(path: string, data: Uint8Array | string): Promise<string> {
  const folder = dirname(path);
  makeFolder(folder);
  const temp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  unfinished.add(temp);
  let handle;
  try {
    // Created synchronously: an asynchronous create still in flight when a second Ctrl-C removes
    // the unfinished files would land after the removal and leave the file behind.
    closeSync(openSync(temp, 'wx'));
    handle = await open(temp, 'r+');
  } catch (error) {
    unfinished.delete(temp);
    throw error;
  }
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await removeTemporaryFile(temp, path, error);
    unfinished.delete(temp);
    throw error;
  }
  return temp;
}

/** A temporary file already renamed or gone needs no removal; one that cannot be removed is reported with the first error. */
async function removeTemporaryFile(temp: string, path: string, error: unknown): Promise<void> {
  await unlink(temp).catch((cleanupError: unknown) => {
    if (errorCode(cleanupError) !== 'ENOENT') throw new AggregateError([error, cleanupError], `writing ${path} failed, and its temporary file ${temp} could not be removed`);
  });
}

/** Temporary files of replacements under way, so that a process leaving at once can remove them. */
const unfinished = new Set<string>();

/**
 * Removes the temporary files of replacements still under way, for a process about to exit at
 * once (a second Ctrl-C): their targets keep their previous content, and no debris is left.
 */
export function removeUnfinishedWrites(): void {
  for (const temp of unfinished) {
    try {
      unlinkSync(temp);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  unfinished.clear();
}

/** `.NAME.PID.RANDOM.tmp`, as replaceFileAtomically names its temporary files. */
const TEMPORARY_FILE = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temporary files that a process killed in the middle of a save (SIGKILL, a power
 * cut) left in `folder`: those whose process is gone. Returns their names.
 */
export function removeStaleTemporaryFiles(folder: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(folder)) {
    const match = TEMPORARY_FILE.exec(name);
    if (match === null || processIsAlive(Number(match[1]))) continue;
    try {
      unlinkSync(join(folder, name));
      removed.push(name);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/** Whether a process with this pid exists on this machine (EPERM: it does, and is another user's). */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * Creates `folder` and its missing parents one level at a time. Node's recursive mkdir never
 * settles on some paths (under /proc it loops on ENOENT); this walk ends after at most one
 * mkdir per path component, with the file system's error unmapped. Returns the folders it
 * created, outermost first.
 */
export function makeFolder(folder: string): string[] {
  const missing: string[] = [];
  let path = resolve(folder);
  for (;;) {
    try {
      if (statSync(path).isDirectory()) break;
      const code = missing.length === 0 ? 'EEXIST' : 'ENOTDIR'; // the folder itself, or a parent, is a file
      throw Object.assign(new Error(`${code}: a file is in the way, mkdir '${folder}'`), { code, path });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    missing.push(path);
    const parent = dirname(path);
    if (parent === path) break;
    path = parent;
  }
  const created: string[] = [];
  for (const part of missing.reverse()) {
    try {
      mkdirSync(part);
      created.push(part);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || !statSync(part).isDirectory()) throw error;
    }
  }
  return created;
}

async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for syncing there
  const handle = await open(folder, 'r');
  try {
    await handle.sync().catch(ignoreUnsupportedSync);
  } finally {
    await handle.close();
  }
}

function ignoreUnsupportedSync(error: unknown): void {
  const code = errorCode(error);
  if (code !== 'EINVAL' && code !== 'ENOTSUP') throw error;
}
