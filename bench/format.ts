/** Small helpers shared by the benchmark's sections: statistics, number formats, tables, child processes. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from '../src/errors.js';
import { decimalNumber } from '../src/options.js';

const execFileAsync = promisify(execFile);

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** 1234567.8 -> "1,234,568"; NaN -> "-". */
export function group(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-';
}

export function range(values: readonly number[]): string {
  return values.length === 0 ? '-' : `${group(Math.min(...values))}-${group(Math.max(...values))}`;
}

export function gflops(flopsPerSec: number): string {
  return Number.isFinite(flopsPerSec) ? (flopsPerSec / 1e9).toFixed(3) : '-';
}

export function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** A ratio such as ours/numpy: 3 decimals below 1, 2 up to 10, then 1. */
export function ratio(r: number): string {
  if (!Number.isFinite(r)) return '-';
  return `${r.toFixed(r < 1 ? 3 : r < 10 ? 2 : 1)}x`;
}

export function signed(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const rounded = Math.round(n);
  return rounded > 0 ? `+${rounded}` : String(rounded);
}

/** FLOPs per character of training: the six matrix-vector-sized products, a multiply-add counted as 2. */
export function trainFlopsPerChar(H: number, K: number): number {
  return 6 * H * H + 6 * H * K;
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export async function spawnOutput(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { stdout } = await execFileAsync(command, args, { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The last non-empty line of a child's stdout, parsed as JSON. */
export function parseJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1);
  if (line === undefined || line === '') throw new Error('the child process printed nothing');
  return JSON.parse(line) as T;
}

/**
 * The most telling line of a failure: of a child's stderr (else the error's message), the last
 * line that is not indented, which skips a Node stack's frames and ends a Python traceback.
 */
export function firstLine(error: unknown): string {
  const { stderr } = error as { stderr?: string };
  const text = stderr !== undefined && stderr.trim() !== '' ? stderr : error instanceof Error ? error.message : String(error);
  const lines = text.trim().split('\n');
  return lines.filter((line) => line !== '' && !/^\s/.test(line)).at(-1) ?? lines.at(-1) ?? '';
}

/** "1,2, 4" -> [1, 2, 4]; every entry must pass `ok`. */
export function parseList(flag: string, text: string, ok: (n: number) => boolean, what: string): number[] {
  const values = text.split(',').map((part) => decimalNumber(part.trim()));
  if (values.length === 0 || values.some((n) => !ok(n) || Number.isNaN(n))) {
    throw new UserError(`--${flag} must be ${what} separated by commas, got '${text}'`);
  }
  return values;
}

export const isPositiveInt = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;
export const isPositive = (n: number): boolean => Number.isFinite(n) && n > 0;

/** Runs a section's main: a UserError prints one line and exits 2, anything else its stack and 1. */
export function runMain(name: string, main: (argv: readonly string[]) => Promise<void>, argv: readonly string[]): void {
  main(argv).catch((error: unknown) => {
    process.stderr.write(error instanceof UserError ? `${name}: ${error.message}\n` : `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = error instanceof UserError ? 2 : 1;
  });
}
