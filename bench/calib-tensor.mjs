// Times src/calib/tensor.ts writeTensor (decode, resize, normalize, write one float32 .npy) against a floor
// measured in the same run: sharp decoding and resizing the same JPEGs to raw RGB with the same settings and
// concurrency, with no normalization and no file. Each variant runs in its own process, so its peak RSS is its own.
//   usage: npm run build && node bench/calib-tensor.mjs [images] [size] [rounds]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { seededRandom } from './measure.mjs';

const self = fileURLToPath(import.meta.url);
const root = path.dirname(self);
const concurrency = 2 * os.availableParallelism(); // what writeTensor uses for 224x224 rows

if (process.argv[2] === '--variant') {
  // child: one variant over the images listed in a folder; prints {ms, maxRssMiB}
  const [, , , variant, dir, size] = process.argv;
  const side = Number(size);
  const images = fs.readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(dir, f));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  if (variant === 'tensor') {
    const { writeTensor, TENSOR_DEFAULTS } = await import('../dist/src/calib/tensor.js');
    const file = path.join(os.tmpdir(), `datum-bench-tensor-${process.pid}.npy`);
    const { bytes } = await writeTensor(images, file, { ...TENSOR_DEFAULTS, width: side, height: side });
    fs.rmSync(file);
    if (bytes !== 128 + images.length * 3 * side * side * 4) throw new Error(`unexpected size ${bytes}`);
  } else {
    const resize = variant === 'floor'
      ? { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false } // the settings writeTensor uses
      : { fit: 'fill' }; // sharp's defaults: lanczos3 and fast shrink-on-load
    let next = 0;
    const worker = async () => {
      while (next < images.length) {
        const { info } = await sharp(images[next++]).rotate().toColourspace('srgb').resize(side, side, resize).raw().toBuffer({ resolveWithObject: true });
        if (info.channels !== 3) throw new Error('not RGB');
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore); // this process's CPU time, sharp's threads included
  console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const count = Number(process.argv[2] ?? 300);
const side = Number(process.argv[3] ?? 224);
const rounds = Number(process.argv[4] ?? 3);
const dir = path.join(root, 'out', `calib-tensor-${count}`);

// 640x480 photos stand-ins: smooth gradients plus seeded noise, so JPEG decoding has real work to do.
if (!fs.existsSync(dir) || fs.readdirSync(dir).length !== count) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const random = seededRandom(7);
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const pixels = Buffer.alloc(640 * 480 * 3);
    for (let p = 0, y = 0; y < 480; y++) for (let x = 0; x < 640; x++, p += 3) {
      pixels[p] = (x * 255) / 640 + 30 * random();
      pixels[p + 1] = (y * 255) / 480 + 30 * random();
      pixels[p + 2] = (i * 17 + x + y) % 256;
    }
    await sharp(pixels, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 85 }).toFile(path.join(dir, `${String(i).padStart(5, '0')}.jpg`));
  }
  console.log(`generated ${count} 640x480 JPEGs in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
}

function run(variant) {
  const child = spawnSync(process.execPath, [self, '--variant', variant, dir, String(side)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`${variant} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout);
}

// Rounds alternate the variants so that a busy moment of the shared machine hits them alike; the best wall and
// CPU time of each count (CPU time is the steadier one when other work shares the cores), and the highest RSS.
const best = {};
for (let r = 0; r < rounds; r++) {
  for (const variant of ['floor', 'tensor', 'sharp-defaults']) {
    const m = run(variant);
    const b = best[variant] ?? m;
    best[variant] = { ms: Math.min(b.ms, m.ms), cpuMs: Math.min(b.cpuMs, m.cpuMs), maxRssMiB: Math.max(b.maxRssMiB, m.maxRssMiB) };
  }
}
const floor = best.floor;
const npyMiB = (128 + count * 3 * side * side * 4) / 2 ** 20;
console.log(`${count} 640x480 JPEGs -> [${count}, 3, ${side}, ${side}] float32 (${npyMiB.toFixed(0)} MiB), concurrency ${concurrency}, best of ${rounds}:`);
const line = (label, m) => console.log(`  ${label.padEnd(56)} ${m.ms.toFixed(0).padStart(6)} ms wall (${(m.ms / floor.ms).toFixed(2)}x floor)  ` +
  `${Math.round(count / (m.ms / 1000)).toString().padStart(4)} images/s  ${m.cpuMs.toFixed(0).padStart(6)} ms CPU (${(m.cpuMs / floor.cpuMs).toFixed(2)}x floor)  peak RSS ${m.maxRssMiB.toFixed(0)} MiB`);
line('floor: sharp decode+resize to raw (linear, no fast SOL)', best.floor);
line('writeTensor (+ normalize, write .npy)', best.tensor);
line('for comparison: sharp defaults (lanczos3, fast SOL)', best['sharp-defaults']);
