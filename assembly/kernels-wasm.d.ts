// The types of dist/assembly/kernels-wasm.js, which assembly/build.mjs writes.

/** The float64 kernels' WebAssembly module (assembly/kernels.ts), base64. */
export declare const float64: string;
/** The float32 kernels' WebAssembly module (assembly/kernels-f32.ts), base64. */
export declare const float32: string;
