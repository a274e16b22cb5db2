/**
 * Bad input and failed runs (issue 7 §3): nothing is left beside -o whatever fails, names never lead
 * outside the dataset through a symlink, and no internal message reaches the user.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import ts from 'typescript';
import { runCli } from '../helpers/cli.js';
import { registerFormat } from '../../src/registry.js';
import { FileWriter, writeAtomically } from '../../src/output.js';
import { datasetFile, resolveInside } from '../../src/paths.js';
import { DatumError } from '../../src/diagnostics.js';
import type { FormatPlugin } from '../../src/plugin.js';
import { jsonPlugin } from '../helpers/json-plugin.js';
import { ROOT, tempDir } from '../helpers/corpus.js';


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function systemError(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, open '${file}'`), { code, errno: -1, syscall: 'open', path: file });
}

/**
 * Exporter that queues many FileWriter writes into nested folders and fails while they are still in
 * flight, in the way `-- --how` says; the importer fails the same way with `--fail-import`.
 */
const failing: FormatPlugin = {
  name: 'test_failing',
  description: 'fails on purpose, for tests',
  detect: jsonPlugin.detect,
  async import(input, options, ctx) {
    const how = process.env.DATUM_TEST_IMPORT_FAILURE;
    if (how === 'deep') { const f = (n: number): number => f(n + 1) + 1; f(0); }
    if (how === 'type') (undefined as unknown as { x: number }).x.toFixed();
    if (how?.startsWith('E')) throw systemError(how, path.join(input, 'dataset.json'));
    return jsonPlugin.import!(input, options, ctx);
  },
  exportOptions: [{ name: 'how', type: 'string', description: 'how to fail' }],
  export(_dataset, output, options) {
    if (options.how === 'sync') throw new DatumError({ code: 'test-failure', message: 'failing synchronously' });
    return (async () => {
      const writer = new FileWriter(64);
      for (let i = 0; i < 63; i++) await writer.write(path.join(output, `d${i}`, 'e', 'f', `${i}.txt`), 'x'.repeat(4096));
      if (options.how === 'unsafe') resolveInside(output, '../escape.txt', { item: 'i1' });
      if (options.how === 'overflow') { const f = (n: number): number => f(n + 1) + 1; f(0); }
      if (options.how === 'nul') {
        await writer.write(path.join(output, 'a\0b.txt'), 'x');
        for (let i = 0; i < 63; i++) await writer.write(path.join(output, `g${i}`, `${i}.txt`), 'x');
      }
      throw new DatumError({ code: 'test-failure', message: 'failing on purpose' });
    })();
  },
};

function writeDataset(dir: string) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ categories: [{ name: 'car' }], items: [{ id: 'a', subset: 'train', annotations: [] }] }));
}

beforeAll(() => {
  registerFormat(jsonPlugin);
  registerFormat(failing);
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.DATUM_TEST_IMPORT_FAILURE;
});

describe('a failed run leaves nothing beside -o', () => {
  it.each(['throw', 'unsafe', 'overflow', 'nul', 'sync'])('export fails with writes in flight (%s)', async (how) => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const r = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_failing', '-o', path.join(root, 'out'), '--', '--how', how);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/ENOTEMPTY|ENOENT|\n\s+at /);
    await sleep(100); // a write that outlived the run would land now
    expect(fs.readdirSync(root)).toEqual(['in']);
  });

  it('with --overwrite keeps the old output and leaves nothing else', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    fs.mkdirSync(path.join(root, 'out'));
    fs.writeFileSync(path.join(root, 'out', 'keep.txt'), 'mine');
    const r = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_failing', '-o', path.join(root, 'out'), '--overwrite');
    expect(r.code).toBe(1);
    await sleep(100);
    expect(fs.readdirSync(root).sort()).toEqual(['in', 'out']);
    expect(fs.readdirSync(path.join(root, 'out'))).toEqual(['keep.txt']);
  });

  it('refuses an output name with a NUL byte with a clear error', async () => {
    const root = tempDir();
    writeDataset(path.join(root, 'in'));
    const r = await runCli('convert', '-if', 'test_json', '-i', path.join(root, 'in'), '-f', 'test_json', '-o', path.join(root, 'o\0ut'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/output path contains a NUL byte/);
    expect(fs.readdirSync(root)).toEqual(['in']);
  });

  it('puts the old output back when the final rename fails', async () => {
    const root = tempDir();
    const out = path.join(root, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const rename = fsp.rename;
    let calls = 0;
    vi.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
      if (++calls === 2) throw systemError('EXDEV', String(to));
      return rename(from, to);
    });
    await expect(writeAtomically(out, true, async (dir) => { fs.writeFileSync(path.join(dir, 'new.txt'), 'new'); })).rejects.toThrow(/EXDEV/);
    expect(fs.readdirSync(root)).toEqual(['out']);
    expect(fs.readdirSync(out)).toEqual(['keep.txt']);
  });

  it('removes the temporary folder when the rename into a fresh output fails', async () => {
    const root = tempDir();
    const out = path.join(root, 'out');
    // something else creates a non-empty `out` while the export runs: the rename cannot replace it
    await expect(writeAtomically(out, false, async (dir) => {
      fs.writeFileSync(path.join(dir, 'new.txt'), 'new');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'theirs.txt'), 'theirs');
    })).rejects.toThrow();
    expect(fs.readdirSync(root)).toEqual(['out']);
    expect(fs.readdirSync(out)).toEqual(['theirs.txt']);
  });

  it.each([['SIGTERM', 143], ['SIGINT', 130]] as const)('cleans up on %s and exits with %i', async (signal, exitCode) => {
    // a child process runs the real src/output.ts (transpiled) and is interrupted mid-export
    const lib = tempDir();
    for (const name of ['output', 'diagnostics']) {
      const source = fs.readFileSync(path.join(ROOT, 'src', `${name}.ts`), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      fs.writeFileSync(path.join(lib, `${name}.js`), js);
    }
    fs.writeFileSync(path.join(lib, 'child.mjs'), `
      import path from 'node:path';
      import { writeAtomically, FileWriter } from './output.js';
      await writeAtomically(process.argv[2], false, async (dir) => {
        const writer = new FileWriter();
        for (let i = 0; i < 50; i++) await writer.write(path.join(dir, 'labels', i + '.txt'), 'x');
        await writer.flush();
        process.stdout.write('ready\\n');
        setInterval(() => writer.write(path.join(dir, 'more', Date.now() + '.txt'), 'x').catch(() => {}), 1);
        await new Promise(() => {});
      });
    `);
    const root = tempDir();
    const child = spawn(process.execPath, [path.join(lib, 'child.mjs'), path.join(root, 'out')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); }));
    expect(fs.readdirSync(root)).toHaveLength(1); // the temporary folder
    await sleep(20);
    child.kill(signal);
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    expect(status).toBe(exitCode);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});

describe('what the output holds', () => {
  it('a media file reached through a symlink is linked or copied as the file, not as the symlink', async () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'real.jpg'), 'pixels');
    fs.symlinkSync('real.jpg', path.join(root, 'link.jpg'));
    const writer = new FileWriter();
    await writer.copy(path.join(root, 'link.jpg'), path.join(root, 'out', 'a.jpg'));
    await writer.flush();
    expect(fs.lstatSync(path.join(root, 'out', 'a.jpg')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(root, 'out', 'a.jpg'), 'utf8')).toBe('pixels');
  });

  it('the output folder gets the mode a plain mkdir gives (not 0700)', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'plain'));
    await writeAtomically(path.join(root, 'out'), false, async (dir) => { fs.writeFileSync(path.join(dir, 'a.txt'), 'a'); });
    expect(fs.statSync(path.join(root, 'out')).mode & 0o777).toBe(fs.statSync(path.join(root, 'plain')).mode & 0o777);
  });
});

describe('symlinks that lead outside the dataset are refused', () => {
  function layout() {
    const base = tempDir();
    const root = path.join(base, 'dataset');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(root, 'images'), { recursive: true });
    fs.mkdirSync(path.join(outside, 'Action'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'SECRET');
    fs.writeFileSync(path.join(outside, 'Action', 'jumping_train.txt'), 'SECRET 1');
    fs.writeFileSync(path.join(root, 'images', 'a.jpg'), 'jpeg');
    return { base, root, outside };
  }

  it('a file, a folder on the way, or a dangling link outside: unsafe-path naming the file', () => {
    const { root, outside } = layout();
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'val.txt'));
    fs.mkdirSync(path.join(root, 'ImageSets'));
    fs.symlinkSync(path.join(outside, 'Action'), path.join(root, 'ImageSets', 'Action'));
    fs.symlinkSync('../../outside/secret.txt', path.join(root, 'images', 'b.jpg'));
    fs.symlinkSync(path.join(outside, 'missing.jpg'), path.join(root, 'images', 'dangling.jpg'));
    for (const name of ['val.txt', 'ImageSets/Action', 'ImageSets/Action/jumping_train.txt', 'ImageSets/Action/new.txt', 'images/b.jpg', 'images/dangling.jpg']) {
      let error: unknown;
      try { resolveInside(root, name, { file: 'ann.xml', item: 'i1' }); } catch (e) { error = e; }
      expect(error, name).toBeInstanceOf(DatumError);
      expect((error as DatumError).diagnostic, name).toMatchObject({ code: 'unsafe-path', file: 'ann.xml', item: 'i1' });
      expect((error as DatumError).message).toContain(name);
    }
    expect(() => datasetFile(root, 'ImageSets/Action')).toThrow(DatumError);
    try { datasetFile(root, 'val.txt'); } catch (e) {
      expect((e as DatumError).diagnostic).toMatchObject({ code: 'unsafe-path', file: path.join(root, 'val.txt') });
    }
  });

  it('a symlink loop is refused', () => {
    const { root } = layout();
    fs.symlinkSync('b', path.join(root, 'a'));
    fs.symlinkSync('a', path.join(root, 'b'));
    expect(() => resolveInside(root, 'a/x.jpg')).toThrow(DatumError);
  });

  it('symlinks that stay inside, a symlinked root and names that do not exist yet are fine', () => {
    const { base, root } = layout();
    fs.symlinkSync('images', path.join(root, 'alias'));
    fs.symlinkSync('a.jpg', path.join(root, 'images', 'same.jpg'));
    fs.symlinkSync(root, path.join(base, 'link'));
    expect(resolveInside(root, 'alias/a.jpg')).toBe(path.join(root, 'alias', 'a.jpg'));
    expect(resolveInside(root, 'images/same.jpg')).toBe(path.join(root, 'images', 'same.jpg'));
    expect(resolveInside(root, 'labels/train/new.txt')).toBe(path.join(root, 'labels', 'train', 'new.txt'));
    expect(resolveInside(path.join(base, 'link'), 'images/a.jpg')).toBe(path.join(base, 'link', 'images', 'a.jpg'));
    expect(datasetFile(root, 'images')).toBe(path.join(root, 'images'));
  });

  it('stays cheap: no syscall per name once its folder has been seen', () => {
    const { root } = layout();
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(root, 'images', `${i}.jpg`), '');
    const lstat = vi.spyOn(fs, 'lstatSync');
    const readdir = vi.spyOn(fs, 'readdirSync');
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) resolveInside(root, `images/${i % 2000}.jpg`);
    const ms = performance.now() - start;
    expect(lstat.mock.calls.length + readdir.mock.calls.length).toBeLessThan(20);
    expect(ms).toBeLessThan(10_000);
  });
});

describe('no internal message reaches the user', () => {
  const input = () => { const root = tempDir(); writeDataset(path.join(root, 'in')); return path.join(root, 'in'); };

  it.each([
    ['ENOENT', /no such file or folder/], ['EACCES', /permission denied/], ['ENOTEMPTY', /folder is not empty/],
    ['EISDIR', /is a folder/], ['ENOSPC', /no space left/], ['EMFILE', /too many open files/],
  ])('a system error %s is a sentence with the path', async (code, sentence) => {
    process.env.DATUM_TEST_IMPORT_FAILURE = code;
    const dir = input();
    const r = await runCli('stats', dir, '-if', 'test_failing');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(sentence);
    expect(r.err).toContain(path.join(dir, 'dataset.json'));
    expect(r.err).not.toContain(code);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('a stack overflow says the input is nested too deeply, naming it', async () => {
    process.env.DATUM_TEST_IMPORT_FAILURE = 'deep';
    const dir = input();
    const r = await runCli('stats', dir, '-if', 'test_failing');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/input is nested too deeply/);
    expect(r.err).toContain(dir);
    expect(r.err).not.toMatch(/Maximum call stack|RangeError/);
  });

  it('anything else is a short internal-error line asking for a report; the stack only with --verbose; --json keeps one object', async () => {
    process.env.DATUM_TEST_IMPORT_FAILURE = 'type';
    const dir = input();
    const r = await runCli('stats', dir, '-if', 'test_failing');
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/internal error.*report.*--verbose/);
    expect(r.err).not.toMatch(/TypeError|Cannot read/);
    const verbose = await runCli('--verbose', 'stats', dir, '-if', 'test_failing');
    expect(verbose.code).toBe(1);
    expect(verbose.err).toMatch(/TypeError[^\n]*\n\s+at /);
    const json = await runCli('stats', dir, '-if', 'test_failing', '--json');
    expect(json.code).toBe(1);
    expect(json.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.out).error).toMatchObject({ severity: 'error', code: 'internal' });
  });
});

describe('datum with no command', () => {
  it('is a usage error: help on stderr, exit 2; --help stays exit 0 on stdout', async () => {
    const none = await runCli();
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toMatch(/Usage: datum/);
    const help = await runCli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: datum/);
  });
});

describe('a dataset changed between runs', () => {
  it('is seen anew: a folder replaced by a symlink to outside is refused on the next import', async () => {
    const base = tempDir();
    const input = path.join(base, 'in');
    writeDataset(input);
    fs.mkdirSync(path.join(input, 'images'));
    fs.mkdirSync(path.join(base, 'outside'));
    const probe: FormatPlugin = {
      name: 'test_probe', description: 'resolves images/a.jpg, for tests',
      async import(dir) { resolveInside(dir, 'images/a.jpg'); return { categories: [], items: [] } as never; },
    };
    registerFormat(probe);
    expect((await runCli('stats', input, '-if', 'test_probe')).code).toBe(0);
    fs.rmSync(path.join(input, 'images'), { recursive: true });
    fs.symlinkSync(path.join(base, 'outside'), path.join(input, 'images'));
    const second = await runCli('stats', input, '-if', 'test_probe');
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/images\/a\.jpg' leads outside the dataset folder through a symlink/);
  });
});
