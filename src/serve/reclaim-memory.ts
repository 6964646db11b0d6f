import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Each generation places the model's weights in a WebAssembly memory of its own (some 4 MB for the
 * default GRU). V8 does not count those memories as pressure on its heap, so a server that
 * generates without pause collects them rarely: 350 generations in a row held 1.3 GB, with a
 * collection every 50 a steady 260 MB. This asks for a full collection (a few ms on the server's
 * small heap) once every `every` generations.
 */
export function garbageCollectorEvery(every: number): () => void {
  let count = 0;
  let collect: (() => void) | undefined;
  return () => {
    if (++count % every !== 0) return;
    collect ??= exposedCollector();
    collect();
  };
}

function exposedCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
