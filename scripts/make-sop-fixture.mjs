#!/usr/bin/env node
/**
 * A small Stanford Online Products-shaped dataset, for tests and the README's walk-through:
 * `Stanford_Online_Products/` with Ebay_info.txt, Ebay_train.txt, Ebay_test.txt and tiny solid-colour
 * JPEGs `<super>_final/<product>_<k>.JPG`. As in the real SOP, train classes are numbered before test
 * classes (there: 1-11,318 train, 11,319-22,634 test), every super-class has both, and classes hold
 * 1 to 6 images. Also fake embeddings (`.npy`, float32) clustered by class, standing in for a model's.
 *
 *   node scripts/make-sop-fixture.mjs OUT [--embeddings]
 *
 * writes OUT/Stanford_Online_Products/..., and with --embeddings OUT/fp32.npy and OUT/int8.npy: one row
 * per test image in Ebay_test.txt's order, the second the first rounded to 8 bits with some noise.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const HEADER = 'image_id class_id super_class_id path';

/** mulberry32: a small seeded generator, so every run writes the same files. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A colour of its own for each class id. */
function classColour(classId) {
  return { r: (classId * 67) % 256, g: (classId * 151 + 40) % 256, b: (classId * 29 + 90) % 256 };
}

/**
 * Writes the dataset under `dir` and returns `{ root, classes }`, each class
 * `{ classId, superId, superName, subset, paths }` (paths relative to root, in list order).
 * Of each super-class's n classes the first floor(n / 2) are train, the rest test.
 */
export async function makeSopFixture(dir, {
  seed = 1,
  superClasses = ['bicycle', 'cabinet', 'chair'],
  classesPerSuper = [5, 4, 3],
  imagesPerClass = (classIndex) => 1 + (classIndex % 6),
} = {}) {
  const root = path.join(dir, 'Stanford_Online_Products');
  const next = random(seed);
  const plan = [];
  for (const subset of ['train', 'test']) {
    superClasses.forEach((superName, s) => {
      const n = classesPerSuper[s];
      const train = Math.floor(n / 2);
      for (let c = subset === 'train' ? 0 : train; c < (subset === 'train' ? train : n); c++) plan.push({ superId: s + 1, superName, subset });
    });
  }
  const classes = plan.map((p, index) => {
    const classId = index + 1;
    const product = 100000 + Math.floor(next() * 800000);
    const paths = Array.from({ length: imagesPerClass(index) }, (_, k) => `${p.superName}_final/${product}${String(classId).padStart(3, '0')}_${k}.JPG`);
    return { classId, ...p, paths };
  });

  for (const s of superClasses) await fs.mkdir(path.join(root, `${s}_final`), { recursive: true });
  for (const c of classes) {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: classColour(c.classId) } }).jpeg({ quality: 95 }).toBuffer();
    for (const p of c.paths) await fs.writeFile(path.join(root, p), jpeg);
  }
  const lines = (subset) => {
    let id = 0;
    const rows = [HEADER];
    for (const c of classes) if (subset === undefined || c.subset === subset) for (const p of c.paths) rows.push(`${++id} ${c.classId} ${c.superId} ${p}`);
    return rows.join('\n') + '\n';
  };
  await fs.writeFile(path.join(root, 'Ebay_info.txt'), lines());
  await fs.writeFile(path.join(root, 'Ebay_train.txt'), lines('train'));
  await fs.writeFile(path.join(root, 'Ebay_test.txt'), lines('test'));
  return { root, classes };
}

/** Standard normal numbers from the uniform generator (Box-Muller). */
function gaussian(next) {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/**
 * One float32 row per label: the label's random centre plus `noise` times a Gaussian, so images of a
 * class lie near each other. `quantize` rounds every value to 8 bits (scale = max |value| / 127) and
 * adds `extraNoise`, standing in for an INT8 model's output. The rows depend only on `seed` and
 * `labels`, so the same call with `quantize` gives the quantized version of the same embeddings.
 */
export async function writeFakeEmbeddings(file, labels, dim = 16, { noise = 0.35, seed = 1, quantize = false, extraNoise = 0.08 } = {}) {
  const next = random(seed);
  const centres = new Map();
  const data = new Float32Array(labels.length * dim);
  labels.forEach((label, row) => {
    if (!centres.has(label)) centres.set(label, Array.from({ length: dim }, () => gaussian(next)));
    const centre = centres.get(label);
    for (let d = 0; d < dim; d++) data[row * dim + d] = centre[d] + noise * gaussian(next);
  });
  if (quantize) {
    const jitter = random(seed + 7919);
    const scale = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
    for (let i = 0; i < data.length; i++) data[i] = Math.round(data[i] / scale) * scale + extraNoise * gaussian(jitter);
  }
  const shape = `(${labels.length}, ${dim})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const text = dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11) + '\n';
  const length = Buffer.alloc(2);
  length.writeUInt16LE(text.length);
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  await fs.writeFile(file, Buffer.concat([magic, length, Buffer.from(text, 'latin1'), Buffer.from(data.buffer)]));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [out, ...flags] = process.argv.slice(2);
  if (!out || flags.some((f) => f !== '--embeddings')) {
    console.error('usage: node scripts/make-sop-fixture.mjs OUT [--embeddings]');
    process.exit(2);
  }
  const { classes } = await makeSopFixture(out);
  const testLabels = classes.filter((c) => c.subset === 'test').flatMap((c) => c.paths.map(() => c.classId));
  if (flags.includes('--embeddings')) {
    // noisy enough that recall is below 1 and the "INT8" rows lose a little of it, as a real model does
    await writeFakeEmbeddings(path.join(out, 'fp32.npy'), testLabels, 16, { noise: 0.6 });
    await writeFakeEmbeddings(path.join(out, 'int8.npy'), testLabels, 16, { noise: 0.6, quantize: true, extraNoise: 0.5 });
  }
  const images = classes.reduce((n, c) => n + c.paths.length, 0);
  console.log(`wrote ${out}/Stanford_Online_Products: ${classes.length} classes, ${images} images (${testLabels.length} in test)${flags.length ? ', fp32.npy and int8.npy' : ''}`);
}
