/**
 * Seeded fuzzing of every importer through the CLI, in process: each variant of a valid seed dataset is
 * converted (and sometimes inspected with stats/detect), and whatever the input, datum must exit 0, 1 or 2,
 * print no internal message, leave nothing beside -o and never carry a byte from outside the input into
 * what it prints or writes. A failure names the seed and variant, so `FUZZ_SEED=<n>` replays it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/corpus.js';
import { SECRET, filesWithSecret, mutate, rng, seeds, writeCanary, writeFiles, type Files } from './helpers/fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const VARIANTS = Number(process.env.FUZZ_VARIANTS ?? 200);
const FORMATS = ['cvat', 'coco', 'voc', 'yolo', 'yolo_ultralytics'];
/** Text that only an internal failure prints. */
const INTERNAL = /^\s+at |TypeError|RangeError|ReferenceError|Maximum call stack|internal error|undefined is not (a|an|iterable)|Cannot read propert|is not a function|is not iterable/;
/** A bare system error code; inside a datum diagnostic (a sentence ending in `[code]`) it is only a detail. */
const ERRNO = /\b(ENOTEMPTY|ENOENT|EISDIR|ENOTDIR|ELOOP|EACCES|EEXIST|EINVAL|EMFILE)\b/;
const DIAGNOSTIC = /\[[a-z0-9-]+\]\s*$/;

function internalText(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = line.match(INTERNAL) ?? (DIAGNOSTIC.test(line) ? null : line.match(ERRNO));
    if (m) return line.trim().slice(0, 200);
  }
  return undefined;
}

function classOf(variant: string, problems: string[]): string {
  const kind = variant.replace(/ (at|into|of|\[|#|->|=|names|to|in|with).*$/, '');
  return `${kind}: ${problems.map((p) => p.replace(/:.*$/, '')).join('; ')}`;
}


let base: Record<string, Files>;
beforeAll(async () => {
  const jpeg = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  base = seeds(jpeg);
});

describe('fuzzed input', () => {
  it.each(FORMATS)('%s: exit 0/1/2, no internal message, nothing left beside -o, nothing read outside the input', async (format) => {
    const r = rng(SEED + FORMATS.indexOf(format));
    const failures: string[] = [];
    // One example per class of failure (mutation kind and problem), so one cause does not hide the others.
    const seen = new Set<string>();
    const targets = FORMATS.filter((f) => f !== format);
    const work = tempDir('datum-fuzz-');
    for (let n = 0; n < VARIANTS; n++) {
      const variant = n === 0 ? { name: 'the seed itself', files: base[format] } : mutate(base[format], format, r);
      const root = path.join(work, String(n));
      const input = path.join(root, 'in');
      fs.mkdirSync(input, { recursive: true });
      writeCanary(root);
      writeCanary(path.join(root, 'canary'));
      writeFiles(input, variant.files);
      variant.post?.(input, path.join(root, 'canary'));
      const before = fs.readdirSync(root).sort();
      const target = targets[n % targets.length];
      const output = path.join(root, 'out');
      const runs = [['convert', '-if', format, '-i', input, '-f', target, '-o', output, ...(n % 3 === 0 ? ['--', '--save-media'] : [])]];
      if (n % 5 === 1) runs.push(['stats', input, '-if', format, '--json']);
      if (n % 7 === 2) runs.push(['detect', input, '--json']);
      for (const argv of runs) {
        const where = `seed ${SEED} variant ${n} (${format}: ${variant.name}) \`datum ${argv[0]}${argv[0] === 'convert' ? ` -f ${target}` : ''}\``;
        let result: { code: number; out: string; err: string };
        try {
          result = await runCli(...argv);
        } catch (error) {
          failures.push(`${where}: main() threw ${(error as Error)?.stack?.split('\n').slice(0, 3).join(' | ')}`);
          continue;
        }
        const { code, out, err } = result;
        const problems: string[] = [];
        if (![0, 1, 2].includes(code)) problems.push(`exit ${code}`);
        const internal = internalText(out + '\n' + err);
        if (internal) problems.push(`internal text: ${JSON.stringify(internal)}`);
        if ((out + err).includes(SECRET)) problems.push('printed the canary secret from outside the input');
        const leaked = argv[0] === 'convert' ? filesWithSecret(output) : [];
        if (leaked.length) problems.push(`output holds data from outside the input: ${leaked.slice(0, 2).join(', ')}`);
        const after = fs.readdirSync(root).filter((e) => e !== 'out').sort();
        if (after.join('\n') !== before.join('\n')) problems.push(`left beside -o: ${after.filter((e) => !before.includes(e)).join(', ')}`);
        const key = classOf(variant.name, problems);
        if (problems.length && !seen.has(key)) {
          seen.add(key);
          failures.push(`${where}: ${problems.join('; ')}\n    stderr: ${err.split('\n').slice(0, 4).join(' | ').slice(0, 400)}`);
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
    fs.rmSync(work, { recursive: true, force: true });
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);
});
