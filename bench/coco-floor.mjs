// The floor for bench/coco-scale.mjs: the plainest COCO instances -> YOLO segment labels conversion.
// JSON.parse the whole file, then write one label file per image (class x y x y ... normalized).
// usage: node bench/coco-floor.mjs <instances.json> <output folder>
import fs from 'node:fs';
import path from 'node:path';

const [file, out] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(file, 'utf8'));
const classOf = new Map(data.categories.map((c, i) => [c.id, i]));
const images = new Map(data.images.map((image) => [image.id, { image, lines: [] }]));
for (const a of data.annotations) {
  const entry = images.get(a.image_id);
  const { width, height } = entry.image;
  for (const polygon of a.segmentation) {
    entry.lines.push(`${classOf.get(a.category_id)} ${polygon.map((v, i) => (v / (i % 2 ? height : width)).toFixed(6)).join(' ')}`);
  }
}
const dir = path.join(out, 'labels', 'train');
fs.mkdirSync(dir, { recursive: true });
for (const { image, lines } of images.values()) {
  fs.writeFileSync(path.join(dir, image.file_name.replace(/\.[^.]+$/, '.txt')), lines.length ? lines.join('\n') + '\n' : '');
}
