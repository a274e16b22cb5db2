// `datum eval recall` against numpy on the same embeddings (default 10,000 x 512 float32, 2,000
// classes of 5, cosine, one-vs-rest), in one run. The floor is numpy as retrieval code does it:
// L2-normalize, `e @ e.T` (float32 BLAS, on every core), the diagonal set to -inf (self left out),
// `argpartition` for the k nearest, then sorting those k. Both sides are timed from the .npy on disk
// to recall@1/2/4/8 (fastest of --runs, default 3, alternating), in-process, and then once as whole
// commands (`python3 floor.py` vs `datum eval recall` on a SOP list of the same items).
// Agreement: recall@k must be equal; the top-k lists that differ are counted (float32 BLAS rounds
// each dot product to 24 bits, datum ranks by float64 sums (src/eval/knn.ts), so near-ties can swap).
// The machine's load average is printed: other processes slow both sides, not always equally.
// usage: npm run build && node bench/eval-recall.mjs [--rows N] [--dim D] [--per-class C] [--noise S] [--runs R]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { measure, seededRandom } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist', 'src');
if (!fs.existsSync(path.join(dist, 'eval', 'recall.js'))) throw new Error('run `npm run build` first');
const { evaluateRecall, readEmbeddings } = await import(path.join(dist, 'eval', 'recall.js'));
const { writeNpy } = await import(path.join(dist, 'npy.js'));

const flag = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const ROWS = flag('--rows', 10_000), DIM = flag('--dim', 512), PER_CLASS = flag('--per-class', 5), RUNS = flag('--runs', 3);
// noise 2.5 times the spread of the centres: recall@1 about 0.6 on the default size (1.1 gave 1.0 everywhere)
const NOISE = flag('--noise', 2.5);
const KS = [1, 2, 4, 8];
const out = path.join(here, 'out', `eval-recall-${ROWS}x${DIM}-${NOISE}`);
fs.mkdirSync(out, { recursive: true });

// Embeddings: a random centre per class plus noise, so recall is neither 0 nor 1.
const random = seededRandom(11);
const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
const labels = Int32Array.from({ length: ROWS }, (_, i) => Math.floor(i / PER_CLASS));
const data = new Float32Array(ROWS * DIM);
const centre = new Float64Array(DIM);
for (let i = 0; i < ROWS; i++) {
  if (i % PER_CLASS === 0) for (let d = 0; d < DIM; d++) centre[d] = gauss();
  for (let d = 0; d < DIM; d++) data[i * DIM + d] = centre[d] + NOISE * gauss();
}
const npy = path.join(out, 'embeddings.npy');
await writeNpy(npy, data, [ROWS, DIM]);
fs.writeFileSync(path.join(out, 'labels.json'), JSON.stringify([...labels]));

// The same items as a SOP test list (labels only: eval reads no image), for the whole-command run.
const sop = path.join(out, 'Stanford_Online_Products');
fs.mkdirSync(sop, { recursive: true });
const header = 'image_id class_id super_class_id path\n';
const lines = [...labels].map((c, i) => `${i + 1} ${c + 1} 1 bicycle_final/${c + 1}_${i % PER_CLASS}.JPG`).join('\n');
fs.writeFileSync(path.join(sop, 'Ebay_test.txt'), header + lines + '\n');
fs.writeFileSync(path.join(sop, 'Ebay_train.txt'), header);

const floor = path.join(out, 'floor.py');
fs.writeFileSync(floor, `import json, sys, time
import numpy as np
t0 = time.perf_counter()
e = np.load(sys.argv[1]); l = np.array(json.load(open(sys.argv[2])))
e = e / np.linalg.norm(e, axis=1, keepdims=True)
s = e @ e.T
np.fill_diagonal(s, -np.inf)
k = ${Math.max(...KS)}
top = np.argpartition(-s, k, axis=1)[:, :k]
order = np.take_along_axis(top, np.argsort(-np.take_along_axis(s, top, axis=1), axis=1, kind='stable'), axis=1)
hit = l[order] == l[:, None]
recall = {str(kk): float(hit[:, :kk].any(axis=1).mean()) for kk in ${JSON.stringify(KS)}}
t1 = time.perf_counter()
np.save(sys.argv[3], order.astype(np.float32))  # indices < 2**24: exact
print(json.dumps({'seconds': t1 - t0, 'recall': recall}))
`);
const python = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
if (python.status !== 0) throw new Error('python3 with numpy is needed for the floor');

async function datumOnce() {
  const t0 = performance.now();
  const embeddings = await readEmbeddings(npy, { rows: ROWS, metric: 'cosine' });
  const result = await evaluateRecall({ gallery: embeddings, galleryLabels: labels, metric: 'cosine', ks: KS });
  return { seconds: (performance.now() - t0) / 1000, result };
}
function numpyOnce() {
  const run = spawnSync('python3', [floor, npy, path.join(out, 'labels.json'), path.join(out, 'numpy-top.npy')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`numpy floor failed:\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

let best = { datum: Infinity, numpy: Infinity };
let datumResult, numpyResult;
for (let r = 0; r < RUNS; r++) {
  numpyResult = numpyOnce();
  best.numpy = Math.min(best.numpy, numpyResult.seconds);
  const d = await datumOnce();
  datumResult = d.result;
  best.datum = Math.min(best.datum, d.seconds);
}

// agreement: recall values, and the top-k lists
const { readNpy } = await import(path.join(dist, 'npy.js'));
const numpyTop = (await readNpy(path.join(out, 'numpy-top.npy'))).data;
const k = Math.max(...KS);
let differ = 0;
for (let q = 0; q < ROWS; q++) {
  for (let i = 0; i < k; i++) if (datumResult.neighbours.indices[q * datumResult.neighbours.k + i] !== numpyTop[q * k + i]) { differ++; break; }
}
const recallAgrees = KS.every((kk) => datumResult.recall[kk] === numpyResult.recall[String(kk)]);

const cli = measure(process.execPath, [path.join(here, '..', 'bin', 'datum.js'), 'eval', 'recall', '--embeddings', npy, '--dataset', sop, '--json']);
const cliFloor = measure('python3', [floor, npy, path.join(out, 'labels.json'), path.join(out, 'numpy-top.npy')]);

console.log(`eval recall, ${ROWS} x ${DIM} float32, ${ROWS / PER_CLASS} classes of ${PER_CLASS} (noise ${NOISE}), cosine, one-vs-rest; fastest of ${RUNS} (numpy ${python.stdout.trim()}; ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)})`);
console.log(`  numpy (e @ e.T + argpartition): ${best.numpy.toFixed(3)} s`);
console.log(`  datum (evaluateRecall)         : ${best.datum.toFixed(3)} s  = ${(best.datum / best.numpy).toFixed(2)}x numpy (goal: within 2x)`);
console.log(`  whole commands: python3 floor.py ${cliFloor.seconds.toFixed(2)} s, ${cliFloor.maxRssMiB.toFixed(0)} MiB; datum eval recall ${cli.seconds.toFixed(2)} s, ${cli.maxRssMiB.toFixed(0)} MiB  = ${(cli.seconds / cliFloor.seconds).toFixed(2)}x`);
console.log(`  recall@${KS.join('/')}: datum ${KS.map((kk) => datumResult.recall[kk].toFixed(4)).join(' ')}, numpy ${KS.map((kk) => numpyResult.recall[String(kk)].toFixed(4)).join(' ')} -> ${recallAgrees ? 'equal' : 'DIFFERENT'}`);
console.log(`  top-${k} lists that differ from numpy's: ${differ} of ${ROWS} (float32 BLAS rounding on near-ties)`);
