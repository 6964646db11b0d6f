import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFilesAtomically } from '../atomic-file.js';
import { loadCheckpointFile, type CheckpointData } from '../checkpoint/index.js';
import { UserError } from '../errors.js';
import { configText, CONFIG_FORMAT, type ExportConfig } from '../export/export-config.js';
import { encodeOnnx, hasOnnxOperator, ONNX_CELLS, ONNX_OPSET } from '../export/onnx.js';
import { encodeSafetensors, type SafetensorsDtype } from '../export/safetensors.js';
import { toTorchTensors, type NamedTensor } from '../export/torch-names.js';
import { inAscendingOrder } from '../export/vocab-order.js';
import { WEB_FILES, webFolderContents } from '../export/web-folder.js';
import { fileError } from '../file-errors.js';
import { optionsHelp, parseOptions, type OptionSpec } from '../options.js';
import { BEST_CHECKPOINT } from '../run-folder.js';
import { checkpointIn, requireNewestRun } from '../run-lookup.js';
import { packageVersion } from '../version.js';

export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FILE = 'config.json';
export const ONNX_FILE = 'model.onnx';

/** What each format writes, and the element types it takes (the first is the default). */
const FORMATS = {
  safetensors: { dtypes: ['float64', 'float32'], writes: `DIR/${MODEL_FILE} with PyTorch's tensor names, and DIR/${CONFIG_FILE}` },
  // onnxruntime runs its RNN, GRU and LSTM operators in float32 only
  onnx: { dtypes: ['float32'], writes: `one ONNX file (opset ${ONNX_OPSET}): --out FILE, or DIR/${ONNX_FILE}` },
  // the weights keep the model's own precision, so that the page samples as 'char-rnn sample' does
  web: { dtypes: [], writes: `a static page in DIR (${WEB_FILES.join(', ')}) that samples and scores in the browser` },
} as const;
type Format = keyof typeof FORMATS;
const FORMAT_NAMES = Object.keys(FORMATS) as Format[];
const SAFETENSORS_DTYPES: Readonly<Record<string, SafetensorsDtype>> = { float64: 'F64', float32: 'F32' };

const EXPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'checkpoint', kind: 'string', metavar: 'FILE', help: 'checkpoint file, or run folder (its best.ckpt), to export (default: the newest run under checkpoints/)' },
  { name: 'format', kind: 'string', default: 'safetensors', help: `what to write: ${FORMAT_NAMES.map((f) => `${f} (${FORMATS[f].writes})`).join('; ')}` },
  { name: 'out', kind: 'string', metavar: 'PATH', help: 'where to write (required): a folder for safetensors and web, created if missing; a file or an existing folder for onnx' },
  { name: 'dtype', kind: 'string', metavar: 'NAME', help: 'element type of the weights written: safetensors float64 (exact, the default) or float32 (rounded, half the size); onnx float32; web keeps the model\'s own' },
  { name: 'force', kind: 'flag', help: 'replace the files the export writes where they exist' },
];

export function exportHelp(): string {
  return [
    'usage: char-rnn export [--checkpoint FILE|RUN] [--format safetensors|onnx|web] --out PATH [options]',
    '',
    'Writes a trained model for other tools. safetensors: tensors named as nn.LSTM / nn.GRU /',
    "nn.RNN(K, H, L) 'rnn' fed one-hot characters and nn.Linear(H, K) 'decoder', beside a config.json",
    "that 'char-rnn import' reads back. onnx: a graph on ONNX's own RNN, GRU and LSTM operators taking",
    'ids [batch, sequence] and the states h0 (c0), giving logits [batch, sequence, K] and hn (cn);',
    'the vocabulary and the sizes are in its metadata. web: a folder of static files (index.html) that',
    "samples and scores in the browser with no server, from file:// or any static host (docs/web.md).",
    '',
    optionsHelp(EXPORT_OPTIONS),
  ].join('\n');
}

export async function runExport(argv: readonly string[]): Promise<number> {
  const v = parseOptions('export', EXPORT_OPTIONS, argv).values;
  const format = v.format as Format;
  if (!Object.hasOwn(FORMATS, format)) throw new UserError(`unknown --format '${format}' (formats: ${FORMAT_NAMES.join(', ')})`);
  const { dtypes } = FORMATS[format];
  const dtype = (v.dtype as string | undefined) ?? (dtypes[0] as string);
  if (format === 'web' && v.dtype !== undefined) {
    throw new UserError("--dtype is for safetensors and onnx: a web export keeps the model's own precision, so that its samples equal 'char-rnn sample'");
  }
  if (format !== 'web' && !(dtypes as readonly string[]).includes(dtype)) {
    throw new UserError(`--dtype is '${dtype}'; ${format} takes ${dtypes.join(' or ')}${format === 'onnx' ? " (onnxruntime's recurrent operators run in float32)" : ''}`);
  }
  const out = v.out as string | undefined;
  if (out === undefined) throw new UserError(`pass --out PATH, where to write the ${format} export`);
  const files = format === 'onnx' ? [onnxPath(out)]
    : format === 'web' ? WEB_FILES.map((file) => join(folderPath(out, format), file))
      : [join(folderPath(out, format), MODEL_FILE), join(out, CONFIG_FILE)];
  if (v.force !== true) {
    const present = files.find((path) => existsSync(path));
    if (present !== undefined) throw new UserError(`${present} exists (pass --force to replace it, or choose another --out)`);
  }

  const path = checkpointIn((v.checkpoint as string | undefined) ?? requireNewestRun(), BEST_CHECKPOINT);
  const { data, bytes } = await loadCheckpointFile(path);
  if (format === 'onnx' && !hasOnnxOperator(data.model.cell)) {
    throw new UserError(`ONNX has no operator for the ${data.model.cell} cell of ${path} (only for ${ONNX_CELLS.join(', ')}): export it with --format safetensors (every tensor under its PyTorch-style name, with config.json), or train --cell ${ONNX_CELLS.filter((c) => c !== 'rnn').join(' or ')} for ONNX`);
  }
  const contents = format === 'web' ? webFolderContents(data, path).map(([, content]) => content) : toolContents(format, data, bytes, dtype);
  try {
    await replaceFilesAtomically(files.map((file, i) => [file, contents[i]] as const));
  } catch (error) {
    throw fileError(error, `cannot write the export to ${out}`, "free some space, fix the folder's permissions, or choose another --out");
  }
  if (v.checkpoint === undefined) process.stderr.write(`exported ${path}\n`);
  return 0;
}

/** The files of the safetensors and onnx formats, whose tensors are PyTorch's, the vocabulary in ascending order. */
function toolContents(format: Format, data: CheckpointData, bytes: Uint8Array, dtype: string): (string | Uint8Array)[] {
  const { vocab, tensors } = inAscendingOrder([...data.model.vocab], toTorchTensors(data.model, data.state.params));
  const config = exportConfig(data, vocab, createHash('sha256').update(bytes).digest('hex'));
  return format === 'onnx'
    ? [onnxBytes(data, tensors, config)]
    : [safetensorsBytes(tensors, SAFETENSORS_DTYPES[dtype]), configText(config)];
}

/** What config.json holds, and an ONNX file's metadata_props: enough to rebuild the model and read its output. */
function exportConfig(data: CheckpointData, vocab: readonly number[], sha256: string): ExportConfig {
  const { cell, L, H } = data.model;
  return {
    format: CONFIG_FORMAT, cell, layers: L, hidden: H, dropout: data.options.dropout, dtype: data.options.dtype, vocab,
    package_version: packageVersion(), source_checkpoint_sha256: sha256,
  };
}

function safetensorsBytes(tensors: readonly NamedTensor[], dtype: SafetensorsDtype): Uint8Array {
  return encodeSafetensors({ tensors: tensors.map((t) => ({ ...t, dtype })), metadata: { format: 'pt' } });
}

function onnxBytes(data: CheckpointData, tensors: readonly NamedTensor[], config: ExportConfig): Uint8Array {
  const metadata = Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
  return encodeOnnx({ dims: data.model, tensors, dtype: 'float32', metadata, producerVersion: config.package_version });
}

/** A safetensors or web export's folder: it may not be a file. */
function folderPath(out: string, format: string): string {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError(`--out ${out} is a file; a ${format} export is a folder (choose another --out)`);
  return out;
}

/** An ONNX export's file: --out itself, or model.onnx in it when it is a folder. */
function onnxPath(out: string): string {
  return existsSync(out) && statSync(out).isDirectory() ? join(out, ONNX_FILE) : out;
}
