import test from 'ava';
import { UserError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES } from '../src/export/safetensors.js';

/**
 * A file built by hand, independently of the encoder: N, the header text as given, then the data.
 * header is an object (JSON.stringify'd) or the exact header text.
 */
function handBuilt(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + text.length + data.length);
  out.writeBigUInt64LE(headerLength ?? BigInt(text.length), 0);
  text.copy(out, 8);
  out.set(data, 8 + text.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function f64le(values: readonly number[]): Uint8Array {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((x, i) => b.writeDoubleLE(x, 8 * i));
  return b;
}

function f32le(values: readonly number[]): Uint8Array {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((x, i) => b.writeFloatLE(x, 4 * i));
  return b;
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

test('a hand-built file decodes to its tensors and metadata, whatever the order of the header', (t) => {
  const header = {
    b: { dtype: 'F32', shape: [3], data_offsets: [48, 60] },
    __metadata__: { format: 'pt' },
    a: { dtype: 'F64', shape: [2, 3], data_offsets: [0, 48] },
  };
  const file = handBuilt(header, concat(f64le([1, -2, 0.5, -0, 1e308, 5e-324]), f32le([0.1, 3, -7])));
  const { tensors, metadata } = decodeSafetensors(file, 'x.safetensors');
  t.deepEqual(metadata, { format: 'pt' });
  t.deepEqual(tensors.map((x) => [x.name, x.dtype, x.shape]), [['a', 'F64', [2, 3]], ['b', 'F32', [3]]]);
  t.deepEqual([...tensors[0].values], [1, -2, 0.5, -0, 1e308, 5e-324]);
  t.true(Object.is(tensors[0].values[3], -0));
  t.deepEqual([...tensors[1].values], [Math.fround(0.1), 3, -7]);
});

test('encode then decode gives back every float64 bit for bit, F32 rounded once, and the data 8-byte aligned', (t) => {
  const weird = [0, -0, 1 / 3, -Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** -1074, 1e-310];
  const tensors = [
    { name: 'w', dtype: 'F64' as const, shape: [2, 4], values: Float64Array.from(weird) },
    { name: 'v', dtype: 'F32' as const, shape: [3], values: Float64Array.from([0.1, 1 / 3, -2.5]) },
    { name: 'empty', dtype: 'F64' as const, shape: [0], values: new Float64Array(0) },
  ];
  const bytes = encodeSafetensors({ tensors, metadata: { format: 'pt', note: 'é' } });
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  t.is((8 + n) % 8, 0);
  t.is(bytes.length, 8 + n + 8 * 8 + 3 * 4);
  const back = decodeSafetensors(bytes, 'x');
  t.deepEqual(back.metadata, { format: 'pt', note: 'é' });
  t.deepEqual(back.tensors.map((x) => x.name), ['w', 'v', 'empty']);
  t.is(Buffer.compare(Buffer.from(back.tensors[0].values.buffer), Buffer.from(Float64Array.from(weird).buffer)), 0);
  t.deepEqual([...back.tensors[1].values], [0.1, 1 / 3, -2.5].map(Math.fround));
  // the header is plain JSON that a reader of the spec finds the tensors by
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  t.deepEqual(header.w, { dtype: 'F64', shape: [2, 4], data_offsets: [0, 64] });
  t.deepEqual(header.v, { dtype: 'F32', shape: [3], data_offsets: [64, 76] });
});

const ONE = { a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } };
const TWO_DOUBLES = f64le([1, 2]);

const malformed: [string, () => Uint8Array, RegExp][] = [
  ['fewer than 8 bytes', () => new Uint8Array(5), /5 bytes, fewer than the 8 of its header length/],
  ['a header length past the end of the file', () => handBuilt(ONE, TWO_DOUBLES, 2n ** 62n), /header length 4611686018427387904 runs past the end of the file/],
  ['a header length just past the end', () => handBuilt('{}', new Uint8Array(0), 3n), /header length 3 runs past the end of the file \(10 bytes\)/],
  ['a header over the cap', () => handBuilt('{}', new Uint8Array(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES + 1)), /over the 100000000-byte cap/],
  ['a header that is not UTF-8', () => concat(handBuilt('{"a":1}').subarray(0, 8), Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 0x20, 0x20, 0x20])), /not UTF-8/],
  ['a header that is not JSON', () => handBuilt('{"a": {', TWO_DOUBLES), /header is not JSON/],
  ['a header that is a list', () => handBuilt('[1, 2]'), /not a JSON object/],
  ['a dtype it does not read', () => handBuilt({ a: { dtype: 'I32', shape: [4], data_offsets: [0, 16] } }, TWO_DOUBLES), /tensor a has dtype "I32"; only F32 and F64/],
  ['a shape that is not a list of counts', () => handBuilt({ a: { dtype: 'F64', shape: [2, -1], data_offsets: [0, 16] } }, TWO_DOUBLES), /tensor a has shape \[2,-1\]/],
  ['offsets that are not a pair', () => handBuilt({ a: { dtype: 'F64', shape: [2], data_offsets: [0] } }, TWO_DOUBLES), /data_offsets \[0\], not \[begin, end\]/],
  ['offsets past the data', () => handBuilt({ a: { dtype: 'F64', shape: [3], data_offsets: [0, 24] } }, TWO_DOUBLES), /lies at bytes \[0, 24\), outside the 16 bytes of data/],
  ['offsets backwards', () => handBuilt({ a: { dtype: 'F64', shape: [0], data_offsets: [16, 0] } }, TWO_DOUBLES), /lies at bytes \[16, 0\)/],
  ['a byte count the dtype and shape do not give', () => handBuilt({ a: { dtype: 'F64', shape: [3], data_offsets: [0, 16] } }, TWO_DOUBLES), /tensor a has 16 bytes, but F64 of shape \[3\] needs 24/],
  ['F32 bytes called F64', () => handBuilt({ a: { dtype: 'F64', shape: [4], data_offsets: [0, 16] } }, TWO_DOUBLES), /needs 32/],
  [
    'overlapping tensors',
    () => handBuilt({ a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] }, b: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, TWO_DOUBLES),
    /tensor b at bytes \[8, 16\) overlaps the tensor before it/,
  ],
  ['a hole in the data', () => handBuilt({ a: { dtype: 'F64', shape: [1], data_offsets: [8, 16] } }, TWO_DOUBLES), /bytes \[0, 8\) of its data belong to no tensor/],
  ['bytes after the last tensor', () => handBuilt({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, TWO_DOUBLES), /last 8 bytes of data belong to no tensor/],
  ['metadata that is not strings', () => handBuilt({ ...ONE, __metadata__: { n: 1 } }, TWO_DOUBLES), /__metadata__ is not an object of strings/],
];

for (const [what, bytes, message] of malformed) {
  test(`refuses ${what}`, (t) => {
    const error = t.throws(() => decodeSafetensors(bytes(), 'm.safetensors'), { instanceOf: UserError });
    t.regex(error.message, /^m\.safetensors is not a valid safetensors file: /);
    t.regex(error.message, message);
  });
}

test('the well-formed file the malformed cases start from decodes', (t) => {
  t.deepEqual([...decodeSafetensors(handBuilt(ONE, TWO_DOUBLES), 'x').tensors[0].values], [1, 2]);
});
