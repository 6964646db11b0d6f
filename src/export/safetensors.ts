import { UserError } from '../errors.js';

/**
 * The safetensors format (https://huggingface.co/docs/safetensors), pure: bytes in, bytes out.
 * Layout: N (8 bytes, little-endian uint64), then N bytes of UTF-8 JSON
 * { name: { dtype, shape, data_offsets: [begin, end] }, ..., "__metadata__": { string: string } },
 * then the data, little-endian, each tensor row-major at [8 + N + begin, 8 + N + end).
 * Only the float dtypes this project has are read and written: F32 and F64.
 */

export type SafetensorsDtype = 'F32' | 'F64';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, F64: 8 };

/** One tensor; values are float64 in memory whatever the dtype on disk (F32 holds them rounded). */
export interface SafeTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly values: Float64Array; // (product(shape))
}

export interface SafetensorsContents {
  readonly tensors: readonly SafeTensor[]; // in the order of their data in the file
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The reference implementation's cap on the header (100 MB): a header length past it, or past the
 * end of the file, is refused before anything is allocated for it.
 */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** The file's bytes: tensors in the order given, packed, the header padded with spaces to 8 bytes. */
export function encodeSafetensors({ tensors, metadata }: SafetensorsContents): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === METADATA_KEY || Object.hasOwn(header, tensor.name)) throw new RangeError(`tensor name '${tensor.name}' is reserved or given twice`);
    if (tensor.values.length !== elements(tensor.shape)) throw new RangeError(`tensor ${tensor.name} has ${tensor.values.length} values for shape [${tensor.shape.join(', ')}]`);
    const bytes = tensor.values.length * DTYPE_BYTES[tensor.dtype];
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // the data starts 8-byte aligned, as the reference writer leaves it
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const tensor of tensors) {
    const size = DTYPE_BYTES[tensor.dtype];
    for (const x of tensor.values) {
      if (tensor.dtype === 'F64') view.setFloat64(at, x, true);
      else view.setFloat32(at, x, true);
      at += size;
    }
  }
  return out;
}

/** The tensors and metadata in a file's bytes; malformed bytes are a UserError naming `name` and what is wrong. */
export function decodeSafetensors(bytes: Uint8Array, name: string): SafetensorsContents {
  const bad = (why: string): UserError => new UserError(`${name} is not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw bad(`it has ${bytes.length} bytes, fewer than the 8 of its header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw bad(`its header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw bad(`its header length ${n} is over the ${MAX_HEADER_BYTES}-byte cap`);
  const N = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + N));
  } catch {
    throw bad('its header is not UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw bad(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(header)) throw bad('its header is not a JSON object');

  const dataStart = 8 + N;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, entry] of Object.entries(header)) {
    if (key === METADATA_KEY) {
      if (!isRecord(entry) || !Object.values(entry).every((v) => typeof v === 'string')) throw bad(`its ${METADATA_KEY} is not an object of strings`);
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isRecord(entry)) throw bad(`its entry for ${key} is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (dtype !== 'F32' && dtype !== 'F64') throw bad(`tensor ${key} has dtype ${JSON.stringify(dtype)}; only F32 and F64 are read`);
    if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`tensor ${key} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) throw bad(`tensor ${key} has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
    const [begin, end] = offsets as number[];
    if (!(begin <= end && end <= dataLength)) throw bad(`tensor ${key} lies at bytes [${begin}, ${end}), outside the ${dataLength} bytes of data`);
    const expected = elements(shape as number[]) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) throw bad(`tensor ${key} has ${end - begin} bytes, but ${dtype} of shape [${shape.join(', ')}] needs ${expected}`);
    entries.push({ name: key, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of entries) {
    if (entry.begin < covered) throw bad(`tensor ${entry.name} at bytes [${entry.begin}, ${entry.end}) overlaps the tensor before it`);
    if (entry.begin > covered) throw bad(`bytes [${covered}, ${entry.begin}) of its data belong to no tensor`);
    covered = entry.end;
  }
  if (covered !== dataLength) throw bad(`its last ${dataLength - covered} bytes of data belong to no tensor`);

  const tensors = entries.map(({ name: tensorName, dtype, shape, begin }) => {
    const values = new Float64Array(elements(shape));
    const size = DTYPE_BYTES[dtype];
    for (let i = 0, at = dataStart + begin; i < values.length; i++, at += size) {
      values[i] = dtype === 'F64' ? view.getFloat64(at, true) : view.getFloat32(at, true);
    }
    return { name: tensorName, dtype, shape, values };
  });
  return { tensors, metadata };
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
