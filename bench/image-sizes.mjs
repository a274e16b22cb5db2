// Times src/media.ts probeItemSizes (sharp header reads, EXIF aware) over generated JPEGs; the target
// is well under 5 s for 5,000 images.   usage: npm run build && node bench/image-sizes.mjs [images] [concurrency]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { probeItemSizes } from '../dist/src/media.js';

const root = path.dirname(fileURLToPath(import.meta.url));
const count = Number(process.argv[2] ?? 5000);
const concurrency = Number(process.argv[3] ?? 32);
const dir = path.join(root, 'out', `image-sizes-${count}`);

// Small JPEGs of varied sizes; every 7th carries EXIF orientation 6, so its width and height swap.
const sizeOf = (i) => ({ width: 32 + (i % 50), height: 24 + (i % 30), rotated: i % 7 === 0 });
const fileOf = (i) => path.join(dir, `${String(i).padStart(5, '0')}.jpg`);

if (!fs.existsSync(dir) || fs.readdirSync(dir).length !== count) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { width, height, rotated } = sizeOf(i);
      let image = sharp({ create: { width, height, channels: 3, background: { r: i % 256, g: 80, b: 160 } } }).jpeg({ quality: 70 });
      if (rotated) image = image.withMetadata({ orientation: 6 });
      await image.toFile(fileOf(i));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`generated ${count} JPEGs in ${((performance.now() - started) / 1000).toFixed(2)} s (${dir})`);
}

const items = Array.from({ length: count }, (_, i) => ({ id: String(i), subset: '', image: { path: fileOf(i) }, annotations: [] }));
const started = performance.now();
const cpuBefore = process.cpuUsage();
const failed = await probeItemSizes(items, concurrency);
const seconds = (performance.now() - started) / 1000;
// CPU time of this process (sharp's worker threads included): steadier than wall time on a shared machine.
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

const wrong = items.filter((item, i) => {
  const { width, height, rotated } = sizeOf(i);
  return item.image.width !== (rotated ? height : width) || item.image.height !== (rotated ? width : height);
}).length;
console.log(`probeItemSizes: ${count} images in ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU (${Math.round(count / seconds)} images/s, concurrency ${concurrency}); ` +
  `${failed.length} unreadable, ${wrong} wrong sizes`);
if (failed.length || wrong) process.exitCode = 1;
