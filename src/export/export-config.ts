import { UserError } from '../errors.js';
import { findCell } from '../model/cells/registry.js';
import { isDtype, type Dtype } from '../model/precision.js';
import { MAX_LAYERS } from '../train-options.js';

/**
 * config.json beside an exported model.safetensors: what it takes to rebuild the module
 * (torch-names.ts) and to map its K outputs back to characters. Pure: objects and text, no I/O.
 */
export interface ExportConfig {
  readonly format: typeof CONFIG_FORMAT;
  readonly cell: string; // a registered cell's name: 'rnn', 'lstm', 'gru', 'mgu', ...
  readonly layers: number; // L
  readonly hidden: number; // H
  readonly dropout: number; // between layers, as trained; 0 for none
  readonly dtype: Dtype; // the precision the model was trained and samples in (not the file's dtype)
  readonly vocab: readonly number[]; // (K) code points, ascending: output k and one-hot input k are vocab[k]
  readonly package_version: string;
  readonly source_checkpoint_sha256: string; // hex, of the checkpoint file exported
}

export const CONFIG_FORMAT = 'parallel-char-rnn/1';

/** The file's text: two-space JSON and a final newline. */
export function configText(config: ExportConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The config in a config.json's text, every field checked; a bad one is a UserError naming `source`. */
export function parseConfig(text: string, source: string): ExportConfig {
  const bad = (why: string): UserError => new UserError(`${source} is not a char-rnn export config: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`it is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('it is not a JSON object');
  const c = value as Record<string, unknown>;
  if (c.format !== CONFIG_FORMAT) throw bad(`its format is ${JSON.stringify(c.format)}, not "${CONFIG_FORMAT}"`);
  const cell = findCell(typeof c.cell === 'string' ? c.cell : '');
  if (cell === undefined) throw bad(`its cell is ${JSON.stringify(c.cell)}, not one char-rnn knows`);
  const int = (key: string, max: number): number => {
    const n = c[key];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > max) throw bad(`its ${key} is ${JSON.stringify(n)}, not an integer in 1..${max}`);
    return n;
  };
  const layers = int('layers', cell.stacks ? MAX_LAYERS : 1);
  const hidden = int('hidden', 4096);
  const dropout = c.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 0.95) || (dropout > 0 && !cell.stacks)) throw bad(`its dropout is ${JSON.stringify(dropout)}, not a number in [0, 0.95] that the ${cell.name} cell takes`);
  if (typeof c.dtype !== 'string' || !isDtype(c.dtype) || !cell.dtypes.includes(c.dtype)) throw bad(`its dtype is ${JSON.stringify(c.dtype)}, not one the ${cell.name} cell computes in (${cell.dtypes.join(', ')})`);
  if (!Array.isArray(c.vocab) || c.vocab.length === 0) throw bad('its vocab is not a non-empty list of code points');
  let previous = -1;
  for (const cp of c.vocab as unknown[]) {
    if (typeof cp !== 'number' || !Number.isInteger(cp) || cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw bad(`its vocab holds ${JSON.stringify(cp)}, not a Unicode scalar value`);
    if (cp <= previous) throw bad(`its vocab lists ${cp} after ${previous}, where code points go in strictly ascending order (sorted(set(text)) in Python)`);
    previous = cp;
  }
  for (const key of ['package_version', 'source_checkpoint_sha256'] as const) {
    if (typeof c[key] !== 'string') throw bad(`its ${key} is ${JSON.stringify(c[key])}, not a string`);
  }
  return {
    format: CONFIG_FORMAT, cell: cell.name, layers, hidden, dropout, dtype: c.dtype, vocab: [...(c.vocab as number[])],
    package_version: c.package_version as string, source_checkpoint_sha256: c.source_checkpoint_sha256 as string,
  };
}
