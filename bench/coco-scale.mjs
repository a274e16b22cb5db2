// COCO at train2017 scale -> YOLO-Ultralytics, against a floor (JSON.parse the whole file, write one
// label file per image). Generates bench/out/coco-scale/annotations/instances_train.json once (fixed
// seed: 118,287 images, ~810k polygons, ~370 MB; key order as in the official files, categories last),
// then runs under `/usr/bin/time -v`: the floor, datum's import alone, and `datum convert`.
// usage: npm run build && node bench/coco-scale.mjs [--regenerate] [--annotations N] [--images N] [--runs N] [--validate] [--generate-only]
// (--annotations 1300000 makes a ~600 MB file, beyond V8's 512 MiB string limit: the floor then fails.)
// --validate also times `datum validate` on the same file and gives its time and peak RSS as a ratio
// against the fastest `datum convert` of the same invocation (issue 8: validating costs at most what
// converting does). --images N with a small --annotations makes a quick small-scale check.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, describe, seededRandom } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const distIndex = path.join(here, '..', 'dist', 'src', 'index.js');

// Child mode: import only (no export), to see where datum's time and memory go.
if (process.argv[2] === '--import-only') {
  const { importDataset } = await import(distIndex);
  const { dataset } = await importDataset(process.argv[3], 'coco');
  let items = 0, annotations = 0;
  for await (const item of dataset.items) { items++; annotations += item.annotations.length; }
  console.log(`${items} items, ${annotations} annotations`);
  process.exit(0);
}

const flag = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const IMAGES = flag('--images', 118_287);
const ANNOTATIONS = flag('--annotations', 810_000);
const scale = [ANNOTATIONS !== 810_000 && ANNOTATIONS, IMAGES !== 118_287 && `${IMAGES}img`].filter(Boolean).join('-');
const dir = path.join(here, 'out', scale ? `coco-scale-${scale}` : 'coco-scale');
const file = path.join(dir, 'annotations', 'instances_train.json');

const random = seededRandom(2017); // the same data on every run

function generate() {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let buffer = '';
  const write = (s) => { buffer += s; if (buffer.length > 1 << 20) { fs.writeSync(fd, buffer); buffer = ''; } };
  write('{"info": {"description": "datum bench, COCO train2017 scale", "year": 2017}, "licenses": [{"id": 1, "name": "bench", "url": ""}], "images": [');
  const sizes = [];
  for (let i = 0; i < IMAGES; i++) {
    const w = 480 + Math.floor(random() * 3) * 80, h = 360 + Math.floor(random() * 3) * 60;
    sizes.push([w, h]);
    write(`${i ? ', ' : ''}{"license": 1, "file_name": "${String(i + 1).padStart(12, '0')}.jpg", "coco_url": "", "height": ${h}, "width": ${w}, "date_captured": "2013-11-14 17:02:52", "flickr_url": "", "id": ${i + 1}}`);
  }
  write('], "annotations": [');
  // Category ids 1..90 with gaps, 80 classes, as in COCO.
  const categoryIds = [];
  for (let id = 1; categoryIds.length < 80; id++) if (![12, 26, 29, 30, 45, 66, 68, 69, 71, 83].includes(id)) categoryIds.push(id);
  for (let a = 0; a < ANNOTATIONS; a++) {
    const imageId = 1 + Math.floor(random() * IMAGES); // not grouped by image, like the real file
    const [w, h] = sizes[imageId - 1];
    const r = 5 + random() * 60, cx = r + random() * (w - 2 * r), cy = r + random() * (h - 2 * r);
    const n = 13 + Math.floor(random() * 13);
    const points = [];
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (let k = 0; k < n; k++) {
      const t = (2 * Math.PI * k) / n, rr = r * (0.6 + 0.4 * random());
      const x = Math.round((cx + rr * Math.cos(t)) * 100) / 100, y = Math.round((cy + rr * Math.sin(t)) * 100) / 100;
      points.push(x, y);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const bbox = [x0, y0, Math.round((x1 - x0) * 100) / 100, Math.round((y1 - y0) * 100) / 100];
    const category = categoryIds[Math.floor(random() * categoryIds.length)];
    write(`${a ? ', ' : ''}{"segmentation": [[${points.join(', ')}]], "area": ${(Math.PI * r * r * 0.64).toFixed(4)}, "iscrowd": 0, "image_id": ${imageId}, "bbox": [${bbox.join(', ')}], "category_id": ${category}, "id": ${a + 1}}`);
  }
  write('], "categories": [');
  write(categoryIds.map((id, i) => `{"supercategory": "thing", "id": ${id}, "name": "class_${i}"}`).join(', '));
  write(']}');
  fs.writeSync(fd, buffer);
  fs.closeSync(fd);
}

if (process.argv.includes('--regenerate') || !fs.existsSync(file)) {
  console.log('generating', file);
  generate();
}
const size = fs.statSync(file).size;
console.log(`COCO instances file: ${IMAGES} images, ${ANNOTATIONS} polygons, ${(size / 1e6).toFixed(0)} MB`);
// --generate-only: write (or keep) the file and stop; bench/split.mjs times other commands on it.
if (process.argv.includes('--generate-only')) process.exit(0);

const node = process.execPath;
const floorOut = path.join(here, 'out', 'coco-scale-floor');
const datumOut = path.join(here, 'out', 'coco-scale-datum');
// Writing 118k small files dominates both runs and its cost drifts with the file system's state, so the
// floor and datum alternate (--runs N, default 2) and the fastest run of each is compared.
const runsOption = process.argv.indexOf('--runs');
const RUNS = runsOption > 0 ? Number(process.argv[runsOption + 1]) : 2;
// Each run starts without an output folder (replacing one would time the deletion of 118k old files).
const fresh = (dir) => { fs.rmSync(dir, { recursive: true, force: true }); spawnSync('sync'); };
const best = (a, b) => (!a || b.seconds < a.seconds ? { ...b, maxRssMiB: Math.max(b.maxRssMiB, a?.maxRssMiB ?? 0) } : { ...a, maxRssMiB: Math.max(a.maxRssMiB, b.maxRssMiB) });

let floor, datum, floorError;
for (let run = 1; run <= RUNS; run++) {
  if (!floorError) {
    fresh(floorOut);
    try {
      const m = measure(node, [path.join(here, 'coco-floor.mjs'), file, floorOut]);
      console.log(describe(`run ${run} floor (JSON.parse + one label file per image)`, m));
      floor = best(floor, m);
    } catch (error) {
      floorError = String(error.message).split('\n').find((l) => /Error/.test(l)) ?? error.message;
      console.log(`floor failed: ${floorError}`);
    }
  }
  fresh(datumOut);
  const m = measure(node, [path.join(here, '..', 'bin', 'datum.js'), 'convert', '-if', 'coco', '-i', dir, '-f', 'yolo_ultralytics', '-o', datumOut]);
  console.log(describe(`run ${run} datum convert -if coco -f yolo_ultralytics`, m));
  datum = best(datum, m);
}
if (process.argv.includes('--validate')) {
  // The file is sound and has no images beside it: one images-absent note, exit 0.
  const validate = measure(node, [path.join(here, '..', 'bin', 'datum.js'), 'validate', '-if', 'coco', dir, '--json']);
  const { summary } = JSON.parse(validate.stdout);
  console.log(describe(`datum validate -if coco (${summary.errors} errors, ${summary.warnings} warnings, ${summary.infos} infos)`, validate));
  console.log(`ratios validate / convert (fastest of ${RUNS}): wall ${(validate.seconds / datum.seconds).toFixed(2)}x, peak RSS ${(validate.maxRssMiB / datum.maxRssMiB).toFixed(2)}x (bar 1.0x each)`);
}
const importOnly = measure(node, [fileURLToPath(import.meta.url), '--import-only', dir]);
console.log(describe(`datum import only (${importOnly.stdout.trim()})`, importOnly));
const count = (d) => fs.readdirSync(d, { recursive: true }).filter((f) => String(f).endsWith('.txt') && String(f).includes('labels')).length;
console.log(`label files: floor ${floor ? count(floorOut) : '-'}, datum ${count(datumOut)}`);
if (floor) {
  console.log(`fastest of ${RUNS}: floor ${floor.seconds.toFixed(2)} s, datum ${datum.seconds.toFixed(2)} s; highest peak RSS: floor ${floor.maxRssMiB.toFixed(0)} MiB, datum ${datum.maxRssMiB.toFixed(0)} MiB`);
  console.log(`ratios datum / floor: wall ${(datum.seconds / floor.seconds).toFixed(2)}x (bar 1.5x), peak RSS ${(datum.maxRssMiB / floor.maxRssMiB).toFixed(2)}x (bar 1.0x)`);
}
