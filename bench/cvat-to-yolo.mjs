// Converts a generated CVAT for images 1.1 XML (default 5,000 images x 7 boxes) to YOLO-Ultralytics
// and prints wall time and peak memory.   usage: npm run build && node bench/cvat-to-yolo.mjs [images] [boxes]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, describe, seededRandom } from './measure.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));
const images = Number(process.argv[2] ?? 5000);
const boxes = Number(process.argv[3] ?? 7);
const dir = path.join(root, 'out', `cvat-${images}x${boxes}`);
const labels = ['car', 'person', 'bicycle', 'traffic light', 'dog', 'no', 'truck'];

const random = seededRandom(42); // the same data on every run

fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const out = fs.openSync(path.join(dir, 'annotations.xml'), 'w');
const write = (s) => fs.writeSync(out, s);
write('<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n      <name>bench</name>\n      <labels>\n');
for (const name of labels) write(`        <label>\n          <name>${name}</name>\n          <attributes>\n          </attributes>\n        </label>\n`);
write('      </labels>\n    </task>\n  </meta>\n');
for (let i = 0; i < images; i++) {
  const w = 1920, h = 1080;
  write(`  <image id="${i}" name="frame_${String(i).padStart(6, '0')}.jpg" width="${w}" height="${h}">\n`);
  for (let b = 0; b < boxes; b++) {
    const x = random() * (w - 100), y = random() * (h - 100);
    const bw = 10 + random() * 300, bh = 10 + random() * 300;
    const label = labels[Math.floor(random() * labels.length)];
    write(`    <box label="${label}" source="manual" occluded="${random() < 0.2 ? 1 : 0}" xtl="${x.toFixed(2)}" ytl="${y.toFixed(2)}" xbr="${Math.min(w, x + bw).toFixed(2)}" ybr="${Math.min(h, y + bh).toFixed(2)}" z_order="0">\n    </box>\n`);
  }
  write('  </image>\n');
}
write('</annotations>\n');
fs.closeSync(out);
const size = fs.statSync(path.join(dir, 'annotations.xml')).size;

const output = path.join(root, 'out', `yolo-${images}x${boxes}`);
const m = measure(process.execPath, [path.join(root, '..', 'bin', 'datum.js'), 'convert', '-if', 'cvat', '-i', dir, '-f', 'yolo_ultralytics', '-o', output, '--overwrite']);
const written = fs.readdirSync(path.join(output, 'labels', 'train')).length;
console.log(`CVAT XML: ${images} images x ${boxes} boxes, ${(size / 1048576).toFixed(1)} MiB`);
console.log(describe('datum convert -if cvat -f yolo_ultralytics', m));
console.log(`label files written: ${written}`);
