import { Option, type Command } from 'commander';
import path from 'node:path';
import { UsageError } from '../diagnostics.js';
import { DEFAULT_KS, evaluateRecall, METRICS, readDatasetLabels, readEmbeddings, type Metric, type RetrievalScores } from '../eval/recall.js';
import { integerFlag } from './argv.js';
import type { CommandEnv } from './env.js';
import { alignTable, plural } from '../text.js';

/** `datum eval <what>`: evaluation of a model's output against a dataset; `recall` for now. */
export function registerEval(program: Command, env: CommandEnv): void {
  const evaluate = program.command('eval').description('evaluate a model\'s output against a dataset (retrieval: `datum eval recall`)');
  evaluate.command('recall')
    .description('recall@k, MAP@R and R-precision of image embeddings (exact nearest-neighbour search)')
    .requiredOption('--embeddings <file>', '[N, D] float32 or float16 .npy, one row per item of --subset in the importer\'s order (= order.txt of `datum split --task retrieval`)')
    .requiredOption('--dataset <path>', 'the dataset the rows belong to (only its labels are read; images need not exist)')
    .addOption(new Option('--input-format <format>', 'dataset format; also written -if (default: detect)'))
    .option('--subset <name>', 'the subset the rows belong to (default: test, or the one test subset such as Test or test2017, else all items)')
    .option('--k <list>', `k values for recall@k (default ${DEFAULT_KS.join(',')})`)
    .addOption(new Option('--metric <metric>', 'similarity (default cosine: CGD compares L2-normalized features)').choices(METRICS))
    .option('--queries <file>', 'separate query embeddings (.npy); the --embeddings rows are then the gallery and no query is excluded')
    .option('--query-subset <name>', 'the subset the --queries rows belong to (needed with --queries)')
    .option('--compare <file>', 'a second embeddings file for the same items (e.g. the FP32 model\'s): both results side by side with the difference')
    .option('--threads <n>', 'worker threads for the search (default: the available cores)')
    .option('--json', 'print exactly one JSON object on stdout')
    .addHelpText('after', [
      '',
      'Without --queries every row is a query and the whole subset is the gallery, each query left out of its',
      'own results (the CGD / Stanford Online Products protocol); a query whose class has no other image is a miss',
      'for recall@k and is left out of MAP@R and R-precision (as pytorch-metric-learning). Ties in distance go to',
      'the lower row. With --compare, "difference" is --embeddings minus --compare.',
      '',
      'Example:',
      '  datum eval recall --embeddings int8.npy --compare fp32.npy --dataset sop -if sop --subset test --k 1,10,100',
    ].join('\n'))
    .action(async (opts) => {
      env.setInput(opts.dataset);
      const ks = parseKs(opts.k);
      const metric = (opts.metric ?? 'cosine') as Metric;
      const threads = integerFlag('eval recall', '--threads', opts.threads, undefined, 1);
      if ((opts.queries === undefined) !== (opts.querySubset === undefined)) throw new UsageError('eval recall: --queries and --query-subset go together (the query rows\' labels come from that subset)');

      if (opts.compare !== undefined && opts.queries !== undefined) throw new UsageError('eval recall: --compare with --queries would need a second query file; compare one-vs-rest runs, or run twice');
      const { format, sets } = await readDatasetLabels(opts.dataset, opts.inputFormat, opts.queries ? [opts.subset, opts.querySubset] : [opts.subset], env.ctx);
      const [gallerySet, querySet] = sets;
      const where = (s: typeof gallerySet) => (s.subset === undefined ? `the dataset (all ${s.ids.length} items; it has no test subset)` : `subset '${s.subset}'`);
      const gallery = await readEmbeddings(opts.embeddings, { rows: gallerySet.ids.length, rowsOf: where(gallerySet), metric });
      const queries = querySet && await readEmbeddings(opts.queries, { rows: querySet.ids.length, rowsOf: where(querySet), dim: gallery.dim, dimOf: `--embeddings (${opts.embeddings})`, metric });
      const other = opts.compare === undefined ? undefined
        : await readEmbeddings(opts.compare, { rows: gallerySet.ids.length, rowsOf: where(gallerySet), metric });

      const run = (embeddings: typeof gallery, label: string) => evaluateRecall({
        gallery: embeddings, galleryLabels: gallerySet.labels, queries, queryLabels: querySet?.labels, ks, metric, threads,
        onProgress: (f) => env.ctx.progress(`eval recall: searching ${label}`, Math.round(f * 100), 100),
      });
      const main = await run(gallery, path.basename(opts.embeddings));
      const second = other && await run(other, path.basename(opts.compare));
      env.clear();

      const setup = {
        dataset: opts.dataset, format, subset: gallerySet.subset ?? null, ...(querySet ? { query_subset: querySet.subset } : {}),
        metric, protocol: queries ? 'queries-vs-gallery' : 'one-vs-rest', gallery: gallery.rows, dim: gallery.dim,
      };
      if (env.isJson()) {
        const out: Record<string, unknown> = { ...scoresJson(main, ks), embeddings: opts.embeddings, ...setup };
        if (second) {
          out.compare = { ...scoresJson(second, ks), embeddings: opts.compare };
          out.difference = differenceJson(main, second, ks);
          out.top_k_changed = changedLists(main.neighbours, second.neighbours, Math.max(...ks));
        }
        env.print(JSON.stringify(out));
        return;
      }
      env.print(`${plural(main.queries, 'query', 'queries')} against ${plural(gallery.rows, 'gallery image')} of ${where(gallerySet)} (${queries ? `queries from subset '${querySet.subset}'` : 'one-vs-rest, each query left out of its own results'}), ${gallery.dim}-d, ${metric}`);
      const rows: string[][] = second
        ? [['metric', path.basename(opts.embeddings), path.basename(opts.compare), 'difference']]
        : [['metric', path.basename(opts.embeddings)]];
      const add = (name: string, a: number, b?: number) => rows.push(b === undefined ? [name, fmt(a)] : [name, fmt(a), fmt(b), signed(a - b)]);
      for (const k of ks) add(`recall@${k}`, main.recall[k], second?.recall[k]);
      add('MAP@R', main.mapAtR, second?.mapAtR);
      add('R-precision', main.rPrecision, second?.rPrecision);
      for (const line of alignTable(rows)) env.print(line);
      if (main.lone) env.print(`${plural(main.lone, 'query', 'queries')} without another image of ${main.lone === 1 ? 'its' : 'their'} class in the gallery: misses for recall@k, left out of MAP@R and R-precision`);
      if (second) env.print(`top-${Math.max(...ks)} neighbour lists that differ: ${changedLists(main.neighbours, second.neighbours, Math.max(...ks))} of ${main.queries}`);
    });
}

/** `--k 1,2,4,8`: distinct whole numbers >= 1, in the order given. */
export function parseKs(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_KS];
  const ks = text.split(',').map((s) => s.trim());
  const values = ks.map(Number);
  if (!text.trim() || ks.some((s, i) => !/^\d+$/.test(s) || values[i] < 1)) throw new UsageError(`eval recall: --k takes whole numbers of at least 1 separated by commas (1,2,4,8); got '${text}'`);
  if (new Set(values).size !== values.length) throw new UsageError(`eval recall: --k lists a value twice: '${text}'`);
  return values;
}

function scoresJson(s: RetrievalScores, ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) out[`recall@${k}`] = s.recall[k];
  out['map@r'] = s.mapAtR;
  out.r_precision = s.rPrecision;
  out.queries = s.queries;
  out.lone_queries = s.lone;
  return out;
}

function differenceJson(a: RetrievalScores, b: RetrievalScores, ks: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) out[`recall@${k}`] = a.recall[k] - b.recall[k];
  out['map@r'] = a.mapAtR - b.mapAtR;
  out.r_precision = a.rPrecision - b.rPrecision;
  return out;
}

/** Queries whose first `top` neighbours (as a list, in order) differ between two runs. */
function changedLists(a: { k: number; indices: Int32Array }, b: { k: number; indices: Int32Array }, top: number): number {
  const n = Math.min(top, a.k, b.k);
  const queries = a.indices.length / a.k;
  let changed = 0;
  for (let q = 0; q < queries; q++) {
    for (let i = 0; i < n; i++) if (a.indices[q * a.k + i] !== b.indices[q * b.k + i]) { changed++; break; }
  }
  return changed;
}

const fmt = (x: number) => x.toFixed(4);
const signed = (x: number) => (Math.abs(x) < 5e-5 ? '0.0000' : (x > 0 ? '+' : '') + x.toFixed(4));
