import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFormat } from '../../src/registry.js';
import { runCli } from '../helpers/cli.js';
import { jsonPlugin } from '../helpers/json-plugin.js';
import { tempDir } from '../helpers/corpus.js';

beforeAll(() => registerFormat(jsonPlugin));

/** A test_json dataset (the model as JSON), normalized so that no image is needed. */
function dataset(items: object[]): string {
  const dir = tempDir('datum-validate-cli-');
  fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ categories: [{ name: 'cat' }, { name: 'dog' }], items }));
  return dir;
}
const box = (label: number, w = 0.2) => ({ type: 'bbox', label, x: 0.1, y: 0.1, w, h: 0.2 });
const item = (id: string, annotations: object[]) => ({ id, subset: '', normalized: true, annotations });
const clean = () => dataset([item('a', [box(0), box(1)])]);
/** Three zero-width boxes (error), one item without annotations (info). */
const broken = () => dataset([item('a', [box(0, 0), box(1)]), item('b', [box(0, 0)]), item('c', [box(1, 0)]), item('d', [])]);

describe('datum validate', () => {
  it('a sound dataset: exit 0, the summary line, nothing on stderr', async () => {
    const r = await runCli('validate', '-if', 'test_json', clean());
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').slice(1)).toEqual(['0 errors, 0 warnings, 0 infos']);
    expect(r.out).toMatch(/^test_json dataset at /);
    expect(r.err).toBe('');
  });

  it('errors: exit 1, findings grouped by code with counts and the first examples, not on stderr', async () => {
    const r = await runCli('validate', '-if', 'test_json', broken());
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const lines = r.out.trim().split('\n').slice(1);
    expect(lines).toEqual([
      'empty-box (error): 3',
      "  error: box has size 0 x 0.2; a zero or negative size trains nothing or breaks loaders (item 'a', annotation 0) [empty-box]",
      "  error: box has size 0 x 0.2; a zero or negative size trains nothing or breaks loaders (item 'b', annotation 0) [empty-box]",
      "  error: box has size 0 x 0.2; a zero or negative size trains nothing or breaks loaders (item 'c', annotation 0) [empty-box]",
      'no-annotations (info): 1',
      "  info: item has no annotations (a background image when training) (item 'd') [no-annotations]",
      '3 errors, 0 warnings, 1 info',
    ]);
  });

  it('--json prints exactly one object with format, root, summary and findings', async () => {
    const dir = broken();
    const r = await runCli('validate', '-if', 'test_json', dir, '--json');
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]);
    expect(Object.keys(json)).toEqual(['format', 'root', 'summary', 'findings']);
    expect(json.format).toBe('test_json');
    expect(json.root).toBe(dir);
    expect(json.summary).toEqual({ errors: 3, warnings: 0, infos: 1 });
    expect(json.findings[0]).toEqual({ severity: 'error', code: 'empty-box', item: 'a', annotation: 0, message: 'box has size 0 x 0.2; a zero or negative size trains nothing or breaks loaders' });
    expect(json.findings).toHaveLength(4);
  });

  it('--max-findings keeps that many, the summary and the text counts still count all', async () => {
    const dir = broken();
    const json = JSON.parse((await runCli('validate', '-if', 'test_json', dir, '--json', '--max-findings', '2')).out);
    expect(json.summary).toEqual({ errors: 3, warnings: 0, infos: 1 });
    // shared between codes: one example of each
    expect(json.findings.map((f: { code: string; item: string }) => `${f.code} ${f.item}`)).toEqual(['empty-box a', 'no-annotations d']);
    const text = await runCli('validate', '-if', 'test_json', dir, '--max-findings', '2');
    expect(text.out).toContain('empty-box (error): 3\n');
    expect(text.out).toContain('  ... and 2 more\n');
    expect(text.code).toBe(1);
  });

  it('warnings only: exit 0', async () => {
    const r = await runCli('validate', '-if', 'test_json', dataset([item('a', [{ type: 'bbox', label: 0, x: 0.9, y: 0.1, w: 0.2, h: 0.2 }, box(1)])]), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).summary).toEqual({ errors: 0, warnings: 1, infos: 0 });
  });

  it('--task pose names the items without keypoints', async () => {
    const r = await runCli('validate', '-if', 'test_json', clean(), '--task', 'pose', '--json');
    expect(JSON.parse(r.out).findings.map((f: { code: string }) => f.code)).toEqual(['no-task-annotations', 'label-unused', 'label-unused']);
    expect(r.code).toBe(0);
  });

  it('a missing path: input-missing, exit 1; bad arguments: usage error, exit 2', async () => {
    const missing = await runCli('validate', path.join(tempDir(), 'nope'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/input path does not exist.*\[input-missing\]/);
    const json = await runCli('validate', path.join(tempDir(), 'nope'), '--json');
    expect(JSON.parse(json.out).error.code).toBe('input-missing');
    expect((await runCli('validate', clean(), '--max-findings', 'many')).code).toBe(2);
    expect((await runCli('validate', clean(), '--task', 'ocr')).code).toBe(2);
    const unknown = await runCli('validate', '-if', 'nope', clean());
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown format 'nope'/);
  });

  it('a file the importer cannot read is one error finding, exit 1', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'dataset.json'), '{"categories": [');
    const r = await runCli('validate', '-if', 'test_json', dir, '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.summary).toEqual({ errors: 1, warnings: 0, infos: 0 });
    expect(json.findings[0]).toMatchObject({ code: 'bad-json', file: path.join(dir, 'dataset.json') });
  });
});
