import { UserError } from '../errors.js';
import { modelLayout, type ModelDims } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';

/**
 * Our parameter table under PyTorch's names, for a module fed one-hot inputs (no nn.Embedding):
 *
 *   self.rnn = nn.LSTM(K, H, L) | nn.GRU(K, H, L) | nn.RNN(K, H, 1, nonlinearity='tanh')
 *   self.decoder = nn.Linear(H, K)
 *
 * The gated cells' tables are already PyTorch's (stacked-layout.ts: weight_ih_l{l}, weight_hh_l{l},
 * bias_ih_l{l}, bias_hh_l{l}, gate rows i, f, g, o or r, z, n, row-major; bench/peers/
 * torch_cells_check.py loads them by these names), so they only gain the 'rnn.' prefix; V and c
 * are the decoder's weight (K, H) and bias (K).
 *
 * The vanilla rnn computes h = tanh(W h + U x + b) with one bias, where nn.RNN computes
 * tanh(W_ih x + b_ih + W_hh h + b_hh): U is weight_ih_l0 (H, K), W is weight_hh_l0 (H, H), b is
 * bias_ih_l0, and bias_hh_l0 is written as zeros. Reading, b = bias_ih_l0 + bias_hh_l0, so a
 * model trained in PyTorch with both biases comes in as the same function.
 */

/** A tensor by its PyTorch name, its shape, and its float64 values. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

/** Our layout name -> PyTorch's, for the names that map one to one. */
function torchName(cell: string, name: string): string {
  if (name === 'V') return 'decoder.weight';
  if (name === 'c') return 'decoder.bias';
  if (cell === 'rnn') return { W: 'rnn.weight_hh_l0', U: 'rnn.weight_ih_l0', b: 'rnn.bias_ih_l0' }[name] ?? name;
  return `rnn.${name}`;
}

/** The model's params (P, in its layout) as PyTorch's state_dict tensors, in state_dict order; views, not copies. */
export function toTorchTensors(dims: ModelDims, params: Float64Array): NamedTensor[] {
  const layout = modelLayout(cellNamed(dims.cell), dims);
  if (params.length !== layout.size) throw new RangeError(`params have ${params.length} entries, the ${dims.cell} layout needs ${layout.size}`);
  const tensors = layout.specs.map((spec) => ({ name: torchName(dims.cell, spec.name), shape: spec.shape, values: params.subarray(spec.offset, spec.offset + spec.size) }));
  if (dims.cell !== 'rnn') return tensors;
  const named = (name: string): NamedTensor => tensors.find((t) => t.name === name)!;
  const b = named('rnn.bias_ih_l0');
  const zeros = { name: 'rnn.bias_hh_l0', shape: b.shape, values: new Float64Array(b.values.length) };
  return [named('rnn.weight_ih_l0'), named('rnn.weight_hh_l0'), b, zeros, named('decoder.weight'), named('decoder.bias')];
}

/**
 * The params (P) of a model of `dims` from PyTorch-named tensors; a missing, extra or misshapen
 * tensor is a UserError naming it and what `source` should hold.
 */
export function fromTorchTensors(dims: ModelDims, tensors: readonly NamedTensor[], source: string): Float64Array {
  const layout = modelLayout(cellNamed(dims.cell), dims);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const expected = toTorchTensors(dims, new Float64Array(layout.size));
  for (const { name, shape } of expected) {
    const found = byName.get(name);
    if (found === undefined) throw new UserError(`${source} has no tensor ${name}, which a ${describe(dims)} needs`);
    if (found.shape.length !== shape.length || found.shape.some((n, i) => n !== shape[i])) {
      throw new UserError(`${source} holds ${name} of shape [${found.shape.join(', ')}], where a ${describe(dims)} has [${shape.join(', ')}]`);
    }
  }
  const extra = tensors.find((t) => !expected.some((e) => e.name === t.name));
  if (extra !== undefined) throw new UserError(`${source} holds a tensor ${extra.name}, which a ${describe(dims)} does not have`);

  const params = new Float64Array(layout.size);
  for (const spec of layout.specs) params.set(byName.get(torchName(dims.cell, spec.name))!.values, spec.offset);
  if (dims.cell === 'rnn') {
    const b = layout.specs.find((spec) => spec.name === 'b')!;
    const bhh = byName.get('rnn.bias_hh_l0')!.values;
    // a zero bias_hh leaves b's bits as they are (-0 + 0 would be +0)
    for (let i = 0; i < bhh.length; i++) if (bhh[i] !== 0) params[b.offset + i] += bhh[i];
  }
  return params;
}

function describe({ cell, L, H, K }: ModelDims): string {
  return `${cell} model of ${L} layer${L === 1 ? '' : 's'}, H=${H}, K=${K}`;
}
