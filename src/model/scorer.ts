import { modelLayout, stateLength, type ModelDims } from './cells/cell.js';
import { cellNamed } from './cells/registry.js';
import { placeModel, RegionPlanner, scoreStream, refreshCopies, writeModelTables } from './kernel-memory.js';
import { createKernelMemory, instantiateKernels, kernelModule } from './kernels.js';
import type { Dtype } from './precision.js';

/**
 * Scores text with a snapshot of the parameters, as one stream, by the cell's WebAssembly kernels
 * in the chunks validation uses (kernel-memory.ts scoreStream), so that the same text from the
 * same state gives the same bits here and in training. Make a new one after the parameters change.
 */
export interface Scorer {
  /**
   * The summed loss in nats of the `count` predictions ids[start+t] -> ids[start+t+1], from the
   * stream state (the cell's state table), which is updated in place.
   */
  score(ids: ArrayLike<number>, start: number, count: number, state: Float64Array): number;
}

export function createScorer(params: Float64Array, dims: ModelDims, dtype: Dtype = 'float64'): Scorer {
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const P = layout.size;
  const S = stateLength(cell, dims);
  if (params.length !== P) throw new RangeError(`params has ${params.length} entries, a ${dims.cell} of L=${dims.L} H=${dims.H} K=${dims.K} needs ${P}`);
  const module = kernelModule(dtype);
  const probe = instantiateKernels(createKernelMemory(0), module);
  const sizes = cell.kernelSizes(probe, dims, 1);
  const planner = new RegionPlanner(probe.heapBase());
  const model = placeModel(planner, cell, layout, dtype);
  const at = { state: planner.take(S * 8), ids: planner.take((sizes.scoreChunk + 1) * 4), scratch: planner.take(sizes.scoreScratch) };
  const memory = createKernelMemory(planner.end);
  const kernels = instantiateKernels(memory, module);
  writeModelTables(memory.buffer, model, cell, layout);
  new Float64Array(memory.buffer, model.params, P).set(params);
  refreshCopies(kernels, model, 0, P);
  const bound = cell.bindKernels(kernels, layout, 1, model);
  const state = new Float64Array(memory.buffer, at.state, S);
  const chunk = new Int32Array(memory.buffer, at.ids, sizes.scoreChunk + 1);
  return {
    score: (ids, start, count, h) => {
      if (h.length !== S) throw new RangeError(`the state has ${h.length} entries, a ${dims.cell} stream needs ${S}`);
      state.set(h);
      const loss = scoreStream(bound, sizes, at, chunk, ids, start, count);
      h.set(state);
      return loss;
    },
  };
}
