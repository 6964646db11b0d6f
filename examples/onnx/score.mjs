// Scores a text with a model that `char-rnn export --format onnx` wrote, in onnxruntime for Node:
//
//   npm install onnxruntime-node protobufjs
//   node score.mjs model.onnx text.txt
//
// prints {"characters": N, "natsPerChar": ...}, the mean loss over the N - 1 predictions from zero
// states, as `char-rnn eval` computes it.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import protobuf from 'protobufjs';

// The one field of ONNX's ModelProto needed here (metadata_props); decoding skips the others.
const { root } = protobuf.parse(`syntax = "proto2";
  message Model { repeated Entry metadata_props = 14; }
  message Entry { optional string key = 1; optional string value = 2; }`, { keepCase: true });

const [modelPath, textPath] = process.argv.slice(2);
const bytes = readFileSync(modelPath);
const meta = Object.fromEntries(root.lookupType('Model').decode(bytes).metadata_props.map((e) => [e.key, e.value]));
const vocab = JSON.parse(meta.vocab); // code points; id k is vocab[k]
const [layers, hidden, K] = [Number(meta.layers), Number(meta.hidden), vocab.length];

const ids = Array.from(readFileSync(textPath, 'utf8'), (c) => {
  const id = vocab.indexOf(c.codePointAt(0));
  if (id < 0) throw new Error(`the model does not know ${JSON.stringify(c)}`);
  return id;
});
const zeros = () => new ort.Tensor('float32', new Float32Array(layers * hidden), [layers, 1, hidden]);
const feeds = { ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), h0: zeros() };
if (meta.cell === 'lstm') feeds.c0 = zeros();

const session = await ort.InferenceSession.create(bytes);
const { logits } = await session.run(feeds); // [1, ids.length, K]; to sample, feed one id at a time with h0 = hn (c0 = cn)
let loss = 0;
for (let t = 0; t + 1 < ids.length; t++) {
  const row = logits.data.subarray(t * K, (t + 1) * K);
  const max = Math.max(...row);
  const logSum = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
  loss += logSum - row[ids[t + 1]];
}
console.log(JSON.stringify({ characters: ids.length, natsPerChar: loss / (ids.length - 1) }));
