// Builds the kernels twice from one source: the float64 module from assembly/kernels.ts, and the
// float32 module from a copy of assembly/ in which precision-f32.ts takes precision.ts's place.
// Then writes both modules' bytes into a JavaScript module (kernels-wasm.js, typed by
// assembly/kernels-wasm.d.ts), so that the kernels load without a file system, in a browser too.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const asc = (entry, outFile) =>
  execFileSync(process.execPath, ['node_modules/assemblyscript/bin/asc.js', entry, '--config', 'asconfig.json', '--target', 'release', '--outFile', outFile], { stdio: 'inherit' });

asc('assembly/kernels.ts', 'dist/assembly/kernels.wasm');
const f32 = 'dist/assembly-f32-source';
rmSync(f32, { recursive: true, force: true });
cpSync('assembly', f32, { recursive: true });
copyFileSync('assembly/precision-f32.ts', `${f32}/precision.ts`);
asc(`${f32}/kernels-f32.ts`, 'dist/assembly/kernels-f32.wasm');

const base64 = (file) => readFileSync(file).toString('base64');
writeFileSync('dist/assembly/kernels-wasm.js', [
  '// Written by assembly/build.mjs: the kernels\' WebAssembly modules, base64.',
  `export const float64 = '${base64('dist/assembly/kernels.wasm')}';`,
  `export const float32 = '${base64('dist/assembly/kernels-f32.wasm')}';`,
  '',
].join('\n'));
