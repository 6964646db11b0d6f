import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processIsAlive } from './atomic-file.js';
import { UserError } from './errors.js';
import { errorCode, fileError } from './file-errors.js';

/** Held by a live trainer in its run folder: its pid and host, one a line. */
export const LOCK_FILE = 'train.lock';
const OUT_HINT = 'pass --out with a folder you can write to';

export interface Lock {
  release(): void;
}

/**
 * Creates `folder/train.lock` with O_EXCL, so that exactly one process holds it. A lock whose
 * process is gone (a trainer killed with SIGKILL) is taken over; a live one is a UserError naming
 * its pid. The lock is removed on release() or when this process exits.
 */
export function takeLock(folder: string): Lock {
  const path = join(folder, LOCK_FILE);
  const owner = `${process.pid}\n${hostname()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw fileError(error, `cannot lock the run folder ${folder}`, OUT_HINT);
      const holder = readLock(path);
      if (holder !== undefined && holderIsAlive(holder)) {
        throw new UserError(`${folder} is in use by another trainer (pid ${holder.pid}): wait for it to finish, stop it, or pass another --out`);
      }
      removeStaleLock(path, holder);
      continue;
    }
    try {
      writeSync(fd, owner);
    } finally {
      closeSync(fd);
    }
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      process.off('exit', release);
      try {
        unlinkSync(path);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    };
    process.on('exit', release);
    return { release };
  }
  throw new UserError(`could not lock ${folder}: other trainers keep taking it (pass another --out)`);
}

/** Whether a live trainer holds the lock of `folder` (a lock a killed trainer left does not count). */
export function trainerHoldsLock(folder: string): boolean {
  const holder = readLock(join(folder, LOCK_FILE));
  return holder !== undefined && holderIsAlive(holder);
}

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly text: string;
}

function readLock(path: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined; // released meanwhile
    throw error;
  }
  const [pid, host = ''] = text.split('\n');
  // A lock being written right now may still be empty: treat it as held by a live process.
  if (!/^\d+$/.test(pid)) return { pid: Number.NaN, host: hostname(), text };
  return { pid: Number(pid), host, text };
}

function holderIsAlive(holder: LockHolder): boolean {
  if (Number.isNaN(holder.pid)) return true;
  if (holder.host !== hostname()) return true; // another machine's process: we cannot tell, so keep out
  return processIsAlive(holder.pid);
}

/**
 * Moves a dead trainer's lock aside atomically. If another process replaced it meanwhile, the
 * file moved is theirs: it is linked back, and the next attempt finds it held.
 */
function removeStaleLock(path: string, holder: LockHolder | undefined): void {
  if (holder === undefined) return;
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (readFileSync(aside, 'utf8') !== holder.text) {
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  unlinkSync(aside);
}
