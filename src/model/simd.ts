import type { Dims, ParamViews } from './layout.js';

/**
 * The two matrix-vector products of a sampling step, a += W h and o += V h, in WebAssembly SIMD:
 * two rows per f64x2 lane pair, eight rows per pass. Each row's sum still adds its terms one at a
 * time in column order, with a multiply and an add rounded separately (WebAssembly never fuses
 * them), so the results are bit for bit those of hiddenStep() and logits() in rnn.ts, several
 * times faster. For that the kernel reads transposed copies of W and V: a snapshot of p.
 */
export interface MatVecKernel {
  readonly h: Float64Array; // (H)
  readonly a: Float64Array; // (H)
  readonly o: Float64Array; // (K)
  /** a += W h */
  addWh(): void;
  /** o += V h */
  addVh(): void;
}

/** Rows handled per pass of the kernel; row counts are padded up to a multiple of it with zero rows. */
const ROWS_PER_PASS = 8;
const PAGE_BYTES = 65536;
const MAX_MEMORY_BYTES = 65536 * PAGE_BYTES;

/** The slice of the WebAssembly JS API used here (tsconfig's lib, ES2022 without DOM, lacks its types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}
type ColsTimes = (mt: number, rows: number, cols: number, x: number, out: number) => void;

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
let compiled: object | undefined; // compiled on first use, then shared: it is code, not state

export function createMatVecKernel(p: ParamViews, { H, K }: Dims): MatVecKernel {
  compiled ??= new wasm.Module(KERNEL_WASM);
  const Hp = padRows(H);
  const Kp = padRows(K);
  // Memory, in float64s: WT (H, Hp) | VT (H, Kp) | h (H, padded to even) | a (Hp) | o (Kp)
  const wt = 0;
  const vt = wt + H * Hp;
  const h = vt + H * Kp;
  const a = h + H + (H % 2);
  const o = a + Hp;
  const end = o + Kp;
  if (end * 8 > MAX_MEMORY_BYTES) {
    throw new RangeError(`H=${H} and K=${K} need ${(end * 8 / 2 ** 30).toFixed(1)} GiB for sampling, more than WebAssembly's 4 GiB`);
  }
  const memory = new wasm.Memory({ initial: Math.ceil((end * 8) / PAGE_BYTES) });
  const colsTimes = new wasm.Instance(compiled, { env: { memory } }).exports.colsTimes as ColsTimes;
  const f64 = new Float64Array(memory.buffer);
  transposeInto(p.W, H, H, f64, wt, Hp);
  transposeInto(p.V, K, H, f64, vt, Kp);
  return {
    h: f64.subarray(h, h + H),
    a: f64.subarray(a, a + H),
    o: f64.subarray(o, o + K),
    addWh: () => colsTimes(wt * 8, Hp, H, h * 8, a * 8),
    addVh: () => colsTimes(vt * 8, Kp, H, h * 8, o * 8),
  };
}

function padRows(rows: number): number {
  return Math.ceil(rows / ROWS_PER_PASS) * ROWS_PER_PASS;
}

/** out[at + j * stride + i] = M[i, j] for M (rows, cols) row-major. */
function transposeInto(M: Float64Array, rows: number, cols: number, out: Float64Array, at: number, stride: number): void {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[at + j * stride + i] = M[i * cols + j];
}

// colsTimes(mt, rows, cols, x, out): out[i] += sum_j MT[j, i] x[j] for i < rows (a multiple of ROWS_PER_PASS),
// j ascending; MT is (cols, rows) row-major. Pointers are byte offsets into the imported memory.
const MT = 0, ROWS = 1, COLS = 2, X = 3, OUT = 4; // parameters
const STRIDE = 5, IB = 6, P = 7, Q = 8, J = 9, O = 10; // i32 locals
const S = 11; // v128 local: x[col] in both lanes; the accumulators follow, two rows each

const get = (local: number) => [0x20, local];
const set = (local: number) => [0x21, local];
const i32Const = (value: number) => [0x41, ...sleb(value)];
const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_GE_U = 0x4f, I32_EQZ = 0x45;
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = 0x0b;
const brIf = (depth: number) => [0x0d, depth];
const br = (depth: number) => [0x0c, depth];
const f64Load = [0x2b, 0x03, 0x00]; // align 8, offset 0
const v128Load = (offset: number) => [0xfd, 0x00, 0x03, ...uleb(offset)]; // align 8
const v128Store = (offset: number) => [0xfd, 0x0b, 0x03, ...uleb(offset)];
const F64X2_SPLAT = [0xfd, 0x14], F64X2_ADD = [0xfd, 0xf0, 0x01], F64X2_MUL = [0xfd, 0xf2, 0x01];
const LANES = Array.from({ length: ROWS_PER_PASS / 2 }, (_, n) => [12 + n, 16 * n] as const);

const body = [
  [2, 6, 0x7f, 1 + ROWS_PER_PASS / 2, 0x7b], // locals: 6 x i32, then v128s
  get(ROWS), i32Const(8), I32_MUL, set(STRIDE), // stride = rows * 8 bytes; ib = 0
  BLOCK, LOOP, // for (ib = 0; ib < stride; ib += ROWS_PER_PASS * 8): rows i = ib / 8 on
  get(IB), get(STRIDE), I32_GE_U, brIf(1),
  get(OUT), get(IB), I32_ADD, set(O),
  LANES.map(([acc, offset]) => [get(O), v128Load(offset), set(acc)]),
  get(MT), get(IB), I32_ADD, set(P), // p = &MT[0, i]
  get(X), set(Q),
  get(COLS), set(J),
  BLOCK, LOOP, // for (j = cols; j > 0; j--): acc += MT[col, i..i+ROWS_PER_PASS) * x[col], col = cols - j
  get(J), I32_EQZ, brIf(1),
  get(Q), f64Load, F64X2_SPLAT, set(S),
  LANES.map(([acc, offset]) => [get(acc), get(P), v128Load(offset), get(S), F64X2_MUL, F64X2_ADD, set(acc)]),
  get(P), get(STRIDE), I32_ADD, set(P),
  get(Q), i32Const(8), I32_ADD, set(Q),
  get(J), i32Const(1), I32_SUB, set(J),
  br(0), END, END,
  LANES.map(([acc, offset]) => [get(O), get(acc), v128Store(offset)]),
  get(IB), i32Const(ROWS_PER_PASS * 8), I32_ADD, set(IB),
  br(0), END, END,
  END,
].flat(3);

const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
const name = (text: string) => [text.length, ...Array.from(text, (ch) => ch.charCodeAt(0))];

const KERNEL_WASM = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type 0: (i32 x 5) -> ()
  ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]), // import memory, at least 0 pages
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(7, [1, ...name('colsTimes'), 0x00, 0]), // export function 0
  ...section(10, [1, ...uleb(body.length), ...body]),
]);

function uleb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function sleb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}
