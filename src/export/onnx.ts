import protobuf from 'protobufjs';
import type { ModelDims } from '../model/cells/cell.js';
import { ONNX_PROTO } from './onnx-proto.js';
import type { NamedTensor } from './torch-names.js';

/**
 * A char-rnn model as an ONNX file, pure: tensors in, bytes out, encoded with protobufjs from
 * ONNX's own schema (proto/onnx/onnx.proto). The graph, for batch B and sequence T:
 *
 *   ids (int64, [B, T]) -> Gather(identity K x K) -> one-hot (B, T, K) -> Transpose -> (T, B, K)
 *   per layer l: ONNX's RNN, GRU or LSTM operator from h0[l] (and c0[l]) -> (T, B, H)
 *   top layer -> MatMul(V^T) + c -> Transpose -> logits (float, [B, T, K])
 *   the layers' last states -> hn (and cn), [L, B, H]
 *
 * ONNX's recurrent operators compute exactly PyTorch's cells, which ours are: LSTM with gate
 * blocks i, o, f, c (ours i, f, g, o), GRU z, r, h (ours r, z, n) with linear_before_reset = 1,
 * RNN with tanh. h0 (and c0) are required inputs, zeros to start a text: onnxruntime's JavaScript
 * API feeds only the inputs without a default, so a default of zeros could never be overridden.
 */

/** The opset: the newest that ONNX 1.12 checks; current onnxruntime runs it. */
export const ONNX_OPSET = 17;
/** ONNX 1.12's IR version. */
export const ONNX_IR_VERSION = 8;

export type OnnxDtype = 'float32' | 'float64';

export interface OnnxExport {
  readonly dims: ModelDims;
  readonly tensors: readonly NamedTensor[]; // the model under PyTorch's names (torch-names.ts)
  readonly dtype: OnnxDtype; // of the weights and the computation
  /** The model's metadata_props: vocab, cell, sizes, provenance. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly producerVersion: string;
}

// TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;
const DOUBLE = 11;
// AttributeProto.AttributeType
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

/** Our gate blocks (PyTorch's order) in the order ONNX's operator takes them. */
const GATE_ORDER: Readonly<Record<string, { op: string; blocks: readonly number[] }>> = {
  rnn: { op: 'RNN', blocks: [0] },
  gru: { op: 'GRU', blocks: [1, 0, 2] }, // r, z, n -> z, r, h
  lstm: { op: 'LSTM', blocks: [0, 3, 1, 2] }, // i, f, g, o -> i, o, f, c
};

/** Whether ONNX has an operator for the cell: its RNN, LSTM and GRU; a cell without one (the MGU) exports as safetensors only. */
export function hasOnnxOperator(cell: string): boolean {
  return Object.hasOwn(GATE_ORDER, cell);
}

/** The cells that export to ONNX, for messages. */
export const ONNX_CELLS: readonly string[] = Object.keys(GATE_ORDER);

let modelType: protobuf.Type | undefined;

/** The ONNX model's bytes. */
export function encodeOnnx(model: OnnxExport): Uint8Array {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType.encode(modelType.fromObject(onnxModel(model))).finish();
}

interface Node { op_type: string; name: string; input: string[]; output: string[]; attribute?: object[] }

function onnxModel({ dims, tensors, dtype, metadata, producerVersion }: OnnxExport): object {
  const { cell, L, H, K } = dims;
  const gates = GATE_ORDER[cell];
  if (gates === undefined) throw new RangeError(`no ONNX operator for the ${cell} cell`);
  const elemType = dtype === 'float32' ? FLOAT : DOUBLE;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const tensor = (name: string): NamedTensor => byName.get(name)!;
  const hasCell = cell === 'lstm';

  const initializer: object[] = [];
  const floats = (name: string, shape: readonly number[], values: ArrayLike<number>): string => {
    initializer.push(floatTensor(name, shape, values, dtype));
    return name;
  };
  const ints = (name: string, values: readonly number[]): string => {
    initializer.push(intTensor(name, values));
    return name;
  };
  const nodes: Node[] = [];
  const node = (op_type: string, input: string[], output: string[], attribute?: object[]): void => {
    nodes.push({ op_type, name: `${op_type}_${nodes.length}`, input, output, ...(attribute === undefined ? {} : { attribute }) });
  };

  const identity = new Float64Array(K * K);
  for (let k = 0; k < K; k++) identity[k * K + k] = 1;
  node('Gather', [floats('one_hot', [K, K], identity), 'ids'], ['x_btk']);
  node('Transpose', ['x_btk'], ['x_0'], [intsAttribute('perm', [1, 0, 2])]);

  const states = hasCell ? ['h0', 'c0'] : ['h0'];

  const G = gates.blocks.length;
  let x = 'x_0';
  for (let l = 0; l < L; l++) {
    const weightIh = tensor(`rnn.weight_ih_l${l}`);
    const weightHh = tensor(`rnn.weight_hh_l${l}`);
    const inputs = weightIh.shape[1];
    const W = floats(`layer${l}.W`, [1, G * H, inputs], gateBlocks(weightIh.values, gates.blocks, H * inputs));
    const R = floats(`layer${l}.R`, [1, G * H, H], gateBlocks(weightHh.values, gates.blocks, H * H));
    const bias = new Float64Array(2 * G * H);
    bias.set(gateBlocks(tensor(`rnn.bias_ih_l${l}`).values, gates.blocks, H), 0);
    bias.set(gateBlocks(tensor(`rnn.bias_hh_l${l}`).values, gates.blocks, H), G * H);
    const B = floats(`layer${l}.B`, [1, 2 * G * H], bias);
    const index = ints(`layer${l}.index`, [l]);
    const initial = states.map((s) => {
      node('Gather', [s, index], [`${s}_l${l}`], [intAttribute('axis', 0)]);
      return `${s}_l${l}`;
    });
    const outputs = [`y_l${l}`, `hn_l${l}`, ...(hasCell ? [`cn_l${l}`] : [])];
    const attributes = [intAttribute('hidden_size', H), ...(cell === 'gru' ? [intAttribute('linear_before_reset', 1)] : [])];
    node(gates.op, [x, W, R, B, '', ...initial], outputs, attributes);
    node('Squeeze', [`y_l${l}`, ints(`layer${l}.direction_axis`, [1])], [`x_${l + 1}`]); // (T, 1, B, H) -> (T, B, H)
    x = `x_${l + 1}`;
  }

  const V = tensor('decoder.weight').values; // (K, H)
  const Vt = new Float64Array(H * K);
  for (let k = 0; k < K; k++) for (let j = 0; j < H; j++) Vt[j * K + k] = V[k * H + j];
  node('MatMul', [x, floats('decoder.weight_t', [H, K], Vt)], ['scores_tbk']);
  node('Add', ['scores_tbk', floats('decoder.bias', [K], tensor('decoder.bias').values)], ['logits_tbk']);
  node('Transpose', ['logits_tbk'], ['logits'], [intsAttribute('perm', [1, 0, 2])]);
  for (const s of states) {
    const last = `${s[0]}n`;
    const perLayer = Array.from({ length: L }, (_, l) => `${last}_l${l}`);
    node(L === 1 ? 'Identity' : 'Concat', perLayer, [last], L === 1 ? undefined : [intAttribute('axis', 0)]);
  }

  const value = (name: string, elem: number, shape: readonly (number | string)[], doc: string): object => ({
    name, doc_string: doc,
    type: { tensor_type: { elem_type: elem, shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const stateDoc = (what: string): string => `${what} of each layer, [layers, batch, hidden]; zeros to start a text`;
  return {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'parallel-char-rnn',
    producer_version: producerVersion,
    doc_string: 'A character-level language model: ids are indices into the vocab in metadata_props (a JSON list of Unicode code points); logits[b, t] scores the character after ids[b, t].',
    metadata_props: Object.entries(metadata).map(([key, v]) => ({ key, value: v })),
    graph: {
      name: `char_rnn_${cell}`,
      node: nodes,
      initializer,
      input: [
        value('ids', INT64, ['batch', 'sequence'], 'symbol ids, indices into the vocab'),
        value('h0', elemType, [L, 'batch', H], stateDoc('the initial hidden state')),
        ...(hasCell ? [value('c0', elemType, [L, 'batch', H], stateDoc('the initial cell state'))] : []),
      ],
      output: [
        value('logits', elemType, ['batch', 'sequence', K], 'unnormalised log-probabilities of the next character at every position'),
        value('hn', elemType, [L, 'batch', H], 'the hidden state of each layer after the last position'),
        ...(hasCell ? [value('cn', elemType, [L, 'batch', H], 'the cell state of each layer after the last position')] : []),
      ],
    },
  };
}

/** values (G blocks of `block` entries each, in our gate order) with the blocks in ONNX's order. */
function gateBlocks(values: Float64Array, blocks: readonly number[], block: number): Float64Array {
  const out = new Float64Array(values.length);
  blocks.forEach((from, to) => out.set(values.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>, dtype: OnnxDtype): object {
  const raw = dtype === 'float32' ? new Float32Array(values.length) : new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) raw[i] = values[i]; // Float32Array rounds to nearest, as PyTorch's .float()
  return { name, dims, data_type: dtype === 'float32' ? FLOAT : DOUBLE, raw_data: littleEndianBytes(raw) };
}

function intTensor(name: string, values: readonly number[]): object {
  return { name, dims: [values.length], data_type: INT64, raw_data: littleEndianBytes(BigInt64Array.from(values, BigInt)) };
}

/** The array's bytes, little-endian as ONNX's raw_data is on every platform. */
function littleEndianBytes(array: Float32Array | Float64Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return bytes.slice();
  const out = bytes.slice();
  const size = array.BYTES_PER_ELEMENT;
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

function intAttribute(name: string, i: number): object {
  return { name, type: ATTRIBUTE_INT, i };
}

function intsAttribute(name: string, ints: readonly number[]): object {
  return { name, type: ATTRIBUTE_INTS, ints };
}
