/**
 * The model file of a static web export: what sampling and scoring read of a checkpoint (the
 * weights, stream 0's carried state, the vocabulary) and nothing of the optimizer's, so that a
 * page loads a fraction of the checkpoint's bytes. Browser-safe: the page decodes what export wrote.
 *
 * Layout: uint32 little-endian n, n bytes of UTF-8 JSON (WebModelHeader), zero padding to a
 * multiple of 8, the weights (P numbers, little-endian, in `weights`), then stream 0's state (S float64).
 */
import type { RunnableModel } from '../checkpoint/data.js';
import { UserError } from '../errors.js';
import { modelLayout, stateLength } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import { isDtype, type Dtype } from '../model/precision.js';

export const WEB_MODEL_FORMAT = 'char-rnn web model 1';

/** What the page shows of the model beside running it. */
export interface WebModelInfo {
  /** The run folder's name, or the checkpoint file's. */
  readonly name: string;
  readonly step: number;
  readonly valLoss: number | null;
}

interface WebModelHeader extends WebModelInfo {
  readonly format: string;
  readonly cell: string;
  readonly layers: number;
  readonly hidden: number;
  readonly vocab: number[];
  readonly dtype: Dtype;
  /**
   * float32 for a float32 model: its kernels and reference math read Math.fround of the float64
   * master weights, which float32 holds exactly; a float64 model keeps every digit.
   */
  readonly weights: Dtype;
}

export interface WebModel extends RunnableModel {
  readonly info: WebModelInfo;
}

export function encodeWebModel(model: RunnableModel, info: WebModelInfo): Uint8Array {
  const { cell, L, H, vocab } = model.model;
  const { dtype } = model.options;
  const S = stateLength(cellNamed(cell), model.model);
  const header: WebModelHeader = { format: WEB_MODEL_FORMAT, ...info, cell, layers: L, hidden: H, vocab: Array.from(vocab), dtype, weights: dtype };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const at = align8(4 + json.length);
  const params = model.state.params;
  const weightBytes = dtype === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(at + params.length * weightBytes + S * 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, json.length, true);
  bytes.set(json, 4);
  params.forEach((x, i) => (weightBytes === 4 ? view.setFloat32(at + 4 * i, x, true) : view.setFloat64(at + 8 * i, x, true)));
  const stateAt = at + params.length * weightBytes;
  model.state.hidden.subarray(0, S).forEach((x, i) => view.setFloat64(stateAt + 8 * i, x, true));
  return bytes;
}

/** The model in bytes that encodeWebModel wrote; anything else is a UserError saying what is wrong. */
export function decodeWebModel(bytes: Uint8Array): WebModel {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new UserError(`the web model file is damaged or not one (${why}); export it again with 'char-rnn export --format web'`);
  };
  if (bytes.length < 4) fail('too short');
  const length = view.getUint32(0, true);
  if (4 + length > bytes.length) fail('its header runs past its end');
  let header: WebModelHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))) as WebModelHeader;
  } catch {
    return fail('its header is not JSON');
  }
  if (header.format !== WEB_MODEL_FORMAT) fail(`format '${String(header.format)}', not '${WEB_MODEL_FORMAT}'`);
  if (!isDtype(header.dtype) || !isDtype(header.weights)) fail('an unknown dtype');
  const dims = { cell: header.cell, L: header.layers, H: header.hidden, K: header.vocab.length };
  const cell = cellNamed(dims.cell);
  const P = modelLayout(cell, dims).size;
  const S = stateLength(cell, dims);
  const at = align8(4 + length);
  const weightBytes = header.weights === 'float32' ? 4 : 8;
  if (bytes.length !== at + P * weightBytes + S * 8) fail(`${bytes.length} bytes where a ${dims.cell} of L=${dims.L} H=${dims.H} K=${dims.K} takes ${at + P * weightBytes + S * 8}`);
  const params = Float64Array.from({ length: P }, (_, i) => (weightBytes === 4 ? view.getFloat32(at + 4 * i, true) : view.getFloat64(at + 8 * i, true)));
  const stateAt = at + P * weightBytes;
  const hidden = Float64Array.from({ length: S }, (_, i) => view.getFloat64(stateAt + 8 * i, true));
  return {
    model: { ...dims, vocab: Uint32Array.from(header.vocab) },
    options: { dtype: header.dtype },
    state: { params, hidden },
    info: { name: header.name, step: header.step, valLoss: header.valLoss },
  };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
