import type { NamedTensor } from './torch-names.js';

/**
 * A model's PyTorch-named tensors (torch-names.ts) with its symbols renumbered in ascending code
 * point order, the order every export writes and import requires: the same function, with one-hot
 * input k and output k meaning the k-th smallest code point. A fresh training's vocabulary is
 * ascending already and comes back unchanged; one grown by --extend-vocab has its new symbols at
 * the end, and here they move into place. Pure; tensors it does not change are returned as they are.
 */
export function inAscendingOrder(vocab: readonly number[], tensors: readonly NamedTensor[]): { vocab: number[]; tensors: NamedTensor[] } {
  const order = [...vocab.keys()].sort((a, b) => vocab[a] - vocab[b]); // new id i is old id order[i]
  if (order.every((old, i) => old === i)) return { vocab: [...vocab], tensors: [...tensors] };
  return { vocab: order.map((old) => vocab[old]), tensors: tensors.map((t) => renumbered(t, order)) };
}

function renumbered(t: NamedTensor, order: readonly number[]): NamedTensor {
  const K = order.length;
  const values = new Float64Array(t.values.length);
  if (t.name === 'rnn.weight_ih_l0') { // (rows, K): a column per input symbol
    const rows = t.values.length / K;
    for (let r = 0; r < rows; r++) for (let i = 0; i < K; i++) values[r * K + i] = t.values[r * K + order[i]];
  } else if (t.name === 'decoder.weight' || t.name === 'decoder.bias') { // (K, H) or (K): a row per output symbol
    const width = t.values.length / K;
    for (let i = 0; i < K; i++) values.set(t.values.subarray(order[i] * width, (order[i] + 1) * width), i * width);
  } else {
    return t;
  }
  return { ...t, values };
}
