// `datum convert --shard K/N` run as N processes at once on this machine, N = 1, 2, 4, COCO ->
// YOLO-Ultralytics on bench/coco-scale.mjs's generated file (default 20,000 images, 140,000 polygons),
// then `datum merge` of the N shard outputs. Wall time of each group (first start to last exit, the
// fastest of --runs, default 2, the Ns alternating) and the highest peak RSS of one process, printed
// as ratios against N = 1 measured in the same run.
// Each shard still reads and parses the whole input (importers do not skip other shards' items yet),
// so on 2 cores N = 2 saves only the export half of the work and N = 4 oversubscribes the cores.
// usage: npm run build && node bench/shard.mjs [--images N --annotations N] [--runs N]
import fs from 'node:fs';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const datum = path.join(here, '..', 'bin', 'datum.js');
const flag = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const images = flag('--images', 20_000), annotations = flag('--annotations', 140_000), RUNS = flag('--runs', 2);
const generated = spawnSync(process.execPath, [path.join(here, 'coco-scale.mjs'), '--generate-only', '--images', String(images), '--annotations', String(annotations)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (generated.status !== 0) throw new Error('bench/coco-scale.mjs --generate-only failed');
process.stdout.write(generated.stdout);
const scale = [annotations !== 810_000 && annotations, images !== 118_287 && `${images}img`].filter(Boolean).join('-');
const input = path.join(here, 'out', scale ? `coco-scale-${scale}` : 'coco-scale');
const outRoot = path.join(here, 'out', 'shard');

if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: install GNU time (Debian: apt-get install -y time)');

/** One datum command under `/usr/bin/time -v`, not waited for: resolves with its peak RSS in MiB. */
function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', process.execPath, datum, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`datum ${args.join(' ')} failed (${code}):\n${err}`));
      resolve(Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)[1]) / 1024);
    });
  });
}

/** Starts all `commands` at once; wall seconds until the last ends, and the highest peak RSS of one. */
async function group(commands) {
  const start = process.hrtime.bigint();
  const rss = await Promise.all(commands.map(run));
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, maxRssMiB: Math.max(...rss) };
}

const fresh = (dir) => { fs.rmSync(dir, { recursive: true, force: true }); spawnSync('sync'); };
const best = (a, b) => ({ ...(!a || b.seconds < a.seconds ? b : a), maxRssMiB: Math.max(a?.maxRssMiB ?? 0, b.maxRssMiB) });
const shardDir = (n, k) => path.join(outRoot, `n${n}`, `shard_${k}`);
const COUNTS = [1, 2, 4];

console.log(`${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine slows every figure)`);
const convert = {}, merge = {};
for (let r = 1; r <= RUNS; r++) {
  for (const n of COUNTS) {
    fresh(path.join(outRoot, `n${n}`));
    const shards = Array.from({ length: n }, (_, i) => i + 1);
    const m = await group(shards.map((k) => ['convert', '-if', 'coco', '-i', input, '-f', 'yolo_ultralytics', '-o', shardDir(n, k), ...(n > 1 ? ['--shard', `${k}/${n}`] : [])]));
    console.log(`run ${r}, N = ${n}: ${n} process${n > 1 ? 'es' : ''} at once ${m.seconds.toFixed(2)} s wall, ${m.maxRssMiB.toFixed(0)} MiB peak RSS (one process)`);
    convert[n] = best(convert[n], m);
    if (n === 1) continue;
    const merged = path.join(outRoot, `n${n}`, 'merged');
    const mm = await group([['merge', ...shards.map((k) => shardDir(n, k)), '-o', merged, '-f', 'yolo_ultralytics', '--on-conflict', 'error']]);
    console.log(`run ${r}, N = ${n}: merge ${mm.seconds.toFixed(2)} s wall, ${mm.maxRssMiB.toFixed(0)} MiB peak RSS`);
    merge[n] = best(merge[n], mm);
  }
}

const labelFiles = (dir) => fs.readdirSync(path.join(dir, 'labels'), { recursive: true }).filter((f) => String(f).endsWith('.txt')).length;
const shardFiles = COUNTS.map((n) => Array.from({ length: n }, (_, i) => labelFiles(shardDir(n, i + 1))).reduce((a, b) => a + b, 0));
console.log(`label files written: ${COUNTS.map((n, i) => `N = ${n} ${shardFiles[i]}`).join(', ')}; merged: ${COUNTS.slice(1).map((n) => `N = ${n} ${labelFiles(path.join(outRoot, `n${n}`, 'merged'))}`).join(', ')}`);
const floor = convert[1];
console.log(`fastest of ${RUNS}, as ratios against N = 1 (${floor.seconds.toFixed(2)} s wall, ${floor.maxRssMiB.toFixed(0)} MiB):`);
for (const n of COUNTS.slice(1)) {
  const total = convert[n].seconds + merge[n].seconds;
  console.log(`  N = ${n}: shards ${(convert[n].seconds / floor.seconds).toFixed(2)}x wall, ${(convert[n].maxRssMiB / floor.maxRssMiB).toFixed(2)}x peak RSS per process; merge ${(merge[n].seconds / floor.seconds).toFixed(2)}x; shards + merge ${(total / floor.seconds).toFixed(2)}x`);
}
