/**
 * Checks that our LSTM and GRU are PyTorch's: builds random problems, computes their loss with
 * the reference math (src/model/cells/), and hands the flat parameters, named by the layout table,
 * to bench/peers/torch_cells_check.py, which loads them into nn.LSTM / nn.GRU + nn.Linear and
 * computes the same loss. Needs python3 with torch; not part of the tests.
 * Usage: node dist/bench/cells-torch-check.js [python3]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createGruWorkspace, gruSequenceLoss } from '../src/model/cells/gru.js';
import { createLstmWorkspace, lstmSequenceLoss } from '../src/model/cells/lstm.js';
import { maskSize, stackedLayout, stackedViewsOf, stateSize, type StackedDims } from '../src/model/cells/stacked-layout.js';
import { sequenceMasks } from '../src/model/dropout.js';
import { Prng } from '../src/model/prng.js';

const PEER = fileURLToPath(new URL('../../bench/peers/torch_cells_check.py', import.meta.url));
const python = process.argv[2] ?? 'python3';

function problem(dims: StackedDims, T: number, p: number, seed: number) {
  const prng = Prng.fromSeed(seed);
  const uniform = (): number => 2 * prng.nextDouble() - 1;
  const layout = stackedLayout(dims);
  const params = Float64Array.from({ length: layout.size }, () => 0.5 * uniform());
  const ids = Array.from({ length: T + 1 }, () => Math.floor(prng.nextDouble() * dims.K));
  const state = Float64Array.from({ length: stateSize(dims) }, () => 0.5 * uniform());
  const masks = p === 0 ? null : sequenceMasks(new Float64Array(maskSize(dims, T)), { L: dims.L, T, H: dims.H }, { seed, step: 0, stream: 0, p });
  const finalState = state.slice();
  const views = stackedViewsOf(params, layout);
  const loss = dims.cell === 'lstm'
    ? lstmSequenceLoss(views, dims, ids, 0, finalState, masks, createLstmWorkspace(dims, T))
    : gruSequenceLoss(views, dims, ids, 0, finalState, masks, createGruWorkspace(dims, T));
  return {
    cell: dims.cell, L: dims.L, H: dims.H, K: dims.K, T,
    tensors: layout.specs.map((spec) => ({ name: spec.name, shape: spec.shape, values: Array.from(params.subarray(spec.offset, spec.offset + spec.size)) })),
    ids, state: Array.from(state), masks: masks === null ? null : Array.from(masks), loss, finalState: Array.from(finalState),
  };
}

let worst = 0;
for (const cell of ['lstm', 'gru'] as const) {
  for (const [L, H, K, T, p] of [[1, 5, 4, 6, 0], [2, 7, 5, 9, 0], [3, 6, 7, 5, 0.3]] as const) {
    const ours = problem({ cell, L, H, K }, T, p, 7 + L);
    const theirs = JSON.parse(execFileSync(python, [PEER], { input: JSON.stringify(ours), encoding: 'utf8' })) as { loss: number; finalState: number[] };
    const stateError = Math.max(...theirs.finalState.map((v, i) => Math.abs(v - ours.finalState[i])));
    const lossError = Math.abs(theirs.loss - ours.loss);
    worst = Math.max(worst, lossError, stateError);
    console.log(`${cell} L=${L} H=${H} K=${K} T=${T} dropout=${p}: ours ${ours.loss.toFixed(12)}, torch ${theirs.loss.toFixed(12)}, |loss diff| ${lossError.toExponential(2)}, max |state diff| ${stateError.toExponential(2)}`);
  }
}
console.log(worst < 1e-10 ? `PASS: PyTorch agrees within ${worst.toExponential(2)}` : `FAIL: largest difference ${worst.toExponential(2)}`);
process.exitCode = worst < 1e-10 ? 0 : 1;
