// `datum split` against a plain `datum convert` (COCO -> COCO) of the same train2017-size file
// (bench/coco-scale.mjs's generator: 118,287 images, ~810k polygons, ~370 MB), each under
// `/usr/bin/time -v`, alternating (--runs N, default 2) and comparing the fastest of each: wall
// time and peak RSS as ratios split / convert. Issue 9: comparable to a plain convert.
// Writing three subset files costs the COCO exporter memory of its own, so a third command is the
// same convert with a streaming transform that deals the items into train/val/test 8:1:1 (a plugin
// module written to bench/out/): same input, same output shape; split / that is what split adds.
// usage: npm run build && node bench/split.mjs [--images N --annotations N] [--runs N]
// (--images/--annotations pass to coco-scale.mjs, which generates the file once.)
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, describe } from './measure.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const datum = path.join(here, '..', 'bin', 'datum.js');
const pass = ['--images', '--annotations'].flatMap((name) => { const i = process.argv.indexOf(name); return i > 0 ? [name, process.argv[i + 1]] : []; });
const generated = spawnSync(process.execPath, [path.join(here, 'coco-scale.mjs'), '--generate-only', ...pass], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (generated.status !== 0) throw new Error('bench/coco-scale.mjs --generate-only failed');
process.stdout.write(generated.stdout);
const flag = (name, fallback) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const images = flag('--images', 118_287), annotations = flag('--annotations', 810_000);
const scale = [annotations !== 810_000 && annotations, images !== 118_287 && `${images}img`].filter(Boolean).join('-');
const input = path.join(here, 'out', scale ? `coco-scale-${scale}` : 'coco-scale');
const RUNS = flag('--runs', 2);

const convertOut = path.join(here, 'out', 'split-convert');
const splitOut = path.join(here, 'out', 'split-split');
const threeOut = path.join(here, 'out', 'split-convert3');
const plugin = path.join(here, 'out', 'deal-subsets-plugin.mjs');
fs.writeFileSync(plugin, `export default { name: 'deal_subsets', description: 'bench: subsets 8:1:1 by position, streaming', args: '', example: 'deal_subsets',
  create: () => (dataset) => ({ ...dataset, items: (async function* () { let i = 0; for await (const item of dataset.items) yield { ...item, subset: ['train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'val', 'test'][i++ % 10] }; })() }) };\n`);
const fresh = (dir) => { fs.rmSync(dir, { recursive: true, force: true }); spawnSync('sync'); };
const best = (a, b) => ({ ...(!a || b.seconds < a.seconds ? b : a), maxRssMiB: Math.max(a?.maxRssMiB ?? 0, b.maxRssMiB) });

let convert, split, three;
for (let run = 1; run <= RUNS; run++) {
  fresh(convertOut);
  const c = measure(process.execPath, [datum, 'convert', '-if', 'coco', '-i', input, '-f', 'coco', '-o', convertOut]);
  console.log(describe(`run ${run} datum convert -if coco -f coco`, c));
  convert = best(convert, c);
  fresh(splitOut);
  const s = measure(process.execPath, [datum, 'split', '-if', 'coco', '-i', input, '-o', splitOut, '--ratios', 'train=0.8,val=0.1,test=0.1', '--seed', '1', '--json']);
  console.log(describe(`run ${run} datum split -if coco --ratios train=0.8,val=0.1,test=0.1`, s));
  split = best(split, s);
  const report = JSON.parse(s.stdout).split;
  fresh(threeOut);
  const t = measure(process.execPath, [datum, '--plugin', plugin, 'convert', '-if', 'coco', '-i', input, '-f', 'coco', '-o', threeOut, '-t', 'deal_subsets']);
  console.log(describe(`run ${run} datum convert -if coco -f coco -t deal_subsets (streaming, 3 subsets)`, t));
  three = best(three, t);
  if (run === 1) {
    console.log(`  ${report.items} items, ${report.balanced} units moved by the balancing; ${report.subsets.map((x) => `${x.name} ${x.items} (max label deviation ${x.maxDeviation.toFixed(3)} pp, ${x.label})`).join(', ')}`);
  }
}
const sizes = (dir) => fs.readdirSync(path.join(dir, 'annotations')).map((f) => `${f} ${(fs.statSync(path.join(dir, 'annotations', f)).size / 1e6).toFixed(0)} MB`).join(', ');
console.log(`written: convert ${sizes(convertOut)}; split ${sizes(splitOut)}`);
console.log(`fastest of ${RUNS}: convert ${convert.seconds.toFixed(2)} s, split ${split.seconds.toFixed(2)} s; highest peak RSS: convert ${convert.maxRssMiB.toFixed(0)} MiB, split ${split.maxRssMiB.toFixed(0)} MiB`);
console.log(`fastest of ${RUNS}: convert -t deal_subsets ${three.seconds.toFixed(2)} s, highest peak RSS ${three.maxRssMiB.toFixed(0)} MiB`);
console.log(`ratios split / convert: wall ${(split.seconds / convert.seconds).toFixed(2)}x, peak RSS ${(split.maxRssMiB / convert.maxRssMiB).toFixed(2)}x`);
console.log(`ratios split / convert -t deal_subsets (same 3-subset output): wall ${(split.seconds / three.seconds).toFixed(2)}x, peak RSS ${(split.maxRssMiB / three.maxRssMiB).toFixed(2)}x`);
