import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Diagnostic } from '../../src/diagnostics.js';
import { plugin } from '../../formats/coco/index.js';
import { conformance, corpus, fixture, ROOT, tempDir } from '../helpers/corpus.js';
import { structuralFindings } from '../helpers/validate.js';

const validate = (input: string): Promise<Diagnostic[]> => structuralFindings(plugin, input);

/** What a test compares: severity, code, file name, pointer (and line/offset for syntax errors). */
async function findings(input: string) {
  return (await validate(input)).map((d) => ({
    severity: d.severity, code: d.code, file: d.file && path.basename(d.file), pointer: d.pointer,
    ...(d.line !== undefined ? { line: d.line } : {}), ...(d.offset !== undefined ? { offset: d.offset } : {}),
  }));
}

const broken = (name: string) => fixture('validate', 'coco', name);
const INSTANCES = 'instances_default.json';
const errors = (list: Diagnostic[]) => list.filter((d) => d.severity === 'error');

/** A dataset folder with one annotation file written from `json` (or raw text). */
function dataset(json: unknown, name = INSTANCES): string {
  const dir = tempDir('datum-coco-validate-');
  fs.mkdirSync(path.join(dir, 'annotations'));
  fs.writeFileSync(path.join(dir, 'annotations', name), typeof json === 'string' ? json : JSON.stringify(json));
  return dir;
}

const sound = () => JSON.parse(fs.readFileSync(path.join(broken('sound'), 'annotations', INSTANCES), 'utf8')) as {
  images: Record<string, unknown>[]; annotations: Record<string, unknown>[]; categories: Record<string, unknown>[];
};

describe('coco validate: one planted defect each', () => {
  it('a file without "images": missing-key at /images, naming the key', async () => {
    expect(await findings(broken('no-images'))).toEqual([{ severity: 'error', code: 'missing-key', file: INSTANCES, pointer: '/images' }]);
    expect((await validate(broken('no-images')))[0].message).toBe('missing required key "images": COCO instances files need "images", "annotations", "categories"');
  });

  it('a bbox of three numbers', async () => {
    expect(await findings(broken('bbox-3-numbers'))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/annotations/1/bbox' }]);
    expect((await validate(broken('bbox-3-numbers')))[0].message).toBe('bbox must NOT have fewer than 4 items (got [2,2,3])');
  });

  it('a segmentation polygon of 4 numbers', async () => {
    expect(await findings(broken('polygon-4-numbers'))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/annotations/0/segmentation/0' }]);
  });

  it('a polygon of an odd number of values (checked in code: JSON Schema cannot say "even")', async () => {
    expect(await findings(broken('polygon-odd'))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/annotations/0/segmentation/0' }]);
    expect((await validate(broken('polygon-odd')))[0].message).toContain('7 values, not x, y pairs');
  });

  it('keypoints not a multiple of 3', async () => {
    expect(await findings(broken('keypoints-not-triplets'))).toEqual([{ severity: 'error', code: 'schema', file: 'person_keypoints_default.json', pointer: '/annotations/0/keypoints' }]);
  });

  it('a keypoint visibility of 3', async () => {
    expect(await findings(broken('keypoints-visibility'))).toEqual([{ severity: 'error', code: 'schema', file: 'person_keypoints_default.json', pointer: '/annotations/0/keypoints/5' }]);
  });

  it('a category without id', async () => {
    expect(await findings(broken('category-no-id'))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/categories/1/id' }]);
    expect((await validate(broken('category-no-id')))[0].message).toBe('missing required key "id"');
  });

  it('an element that is not an object', async () => {
    expect(await findings(broken('non-object'))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/annotations/1' }]);
    expect((await validate(broken('non-object')))[0].message).toBe('element of "annotations" must be object (got "not an annotation")');
  });

  it('a truncated file: bad-json at the end, with offset and line; no missing-key for what was cut off', async () => {
    const size = fs.statSync(path.join(broken('truncated'), 'annotations', INSTANCES)).size;
    expect(await findings(broken('truncated'))).toEqual([{ severity: 'error', code: 'bad-json', file: INSTANCES, pointer: undefined, line: 69, offset: size }]);
  });

  it('a syntax error inside one element: bad-json with its pointer, offset and line', async () => {
    expect(await findings(broken('bad-json-element'))).toEqual([{ severity: 'error', code: 'bad-json', file: INSTANCES, pointer: '/annotations/1', line: 61, offset: 656 }]);
  });

  it('string ids are warnings (pycocotools and datum read them, Datumaro does not)', async () => {
    expect(await findings(broken('string-ids'))).toEqual([
      { severity: 'warning', code: 'string-id', file: INSTANCES, pointer: '/images/1/id' },
      { severity: 'warning', code: 'string-id', file: INSTANCES, pointer: '/annotations/1/image_id' },
    ]);
  });

  it('"images" that is not a list', async () => {
    const json = { ...sound(), images: {} };
    expect(await findings(dataset(json))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/images' }]);
  });

  it('Python NaN in a bbox: the field is named (as the importer reads it, NaN becomes null)', async () => {
    const text = JSON.stringify(sound()).replace('"bbox":[1,1,4,3]', '"bbox":[1,NaN,4,3]');
    expect(await findings(dataset(text))).toEqual([{ severity: 'error', code: 'schema', file: INSTANCES, pointer: '/annotations/0/bbox/1' }]);
  });

  it('an empty annotations list is present (not missing)', async () => {
    expect(await findings(dataset({ ...sound(), annotations: [] }))).toEqual([]);
  });

  it('a folder without COCO files', async () => {
    const dir = tempDir('datum-coco-validate-');
    expect(await findings(dir)).toEqual([{ severity: 'error', code: 'no-coco-files', file: path.basename(dir), pointer: undefined }]);
  });
});

describe('coco validate: reading goes on after a defect', () => {
  it('reports every bad element of a file, a syntax error in one element included', async () => {
    const json = sound();
    for (let i = 0; i < 50; i++) json.annotations.push({ id: 10 + i, image_id: 1, category_id: 1, bbox: [0, 0, -1, 2] });
    const text = JSON.stringify(json).replace('"id":30,', '"id":30,,');
    const list = await findings(dataset(text));
    expect(list).toHaveLength(50);
    expect(list.filter((d) => d.code === 'bad-json').map((d) => d.pointer)).toEqual(['/annotations/22']);
    expect(list.filter((d) => d.code === 'schema').map((d) => d.pointer)).toEqual(
      Array.from({ length: 50 }, (_, i) => `/annotations/${i + 2}/bbox/2`).filter((p) => p !== '/annotations/22/bbox/2'));
  });

  it('checks every task file of a dataset', async () => {
    const dir = dataset({ ...sound(), images: undefined });
    fs.copyFileSync(path.join(broken('keypoints-visibility'), 'annotations', 'person_keypoints_default.json'), path.join(dir, 'annotations', 'person_keypoints_default.json'));
    expect((await findings(dir)).map((d) => `${d.file} ${d.code} ${d.pointer}`)).toEqual([
      'instances_default.json missing-key /images',
      'person_keypoints_default.json schema /annotations/0/keypoints/5',
    ]);
  });
});

describe('coco validate: sound files give no findings', () => {
  it('the fixtures written for these tests', async () => {
    expect(await validate(broken('sound'))).toEqual([]);
    expect(await validate(broken('keypoints-sound'))).toEqual([]);
  });

  it("the repo's COCO fixtures", async () => {
    for (const dir of ['annotations', 'roboflow']) expect(await validate(fixture('coco', dir)), dir).toEqual([]);
  });
});

conformance('coco validate on the corpus', () => {
  it('every COCO dataset gives no findings', async () => {
    const names = fs.readdirSync(corpus('coco_dataset'));
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(await validate(corpus('coco_dataset', name)), name).toEqual([]);
  });
});

describe('coco schemas as other tools use them: whole-file validation', () => {
  const schemas = path.join(ROOT, 'formats', 'coco', 'schemas');
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  for (const name of fs.readdirSync(schemas)) ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemas, name), 'utf8')));
  const check = (task: string, file: string) => {
    const validate = ajv.getSchema(`https://datum.dev/schemas/coco/${task}.schema.json`)!;
    const ok = validate(JSON.parse(fs.readFileSync(file, 'utf8')));
    return { ok, pointers: (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => e.instancePath + (e.keyword === 'required' ? `/${String(e.params.missingProperty)}` : '')) };
  };
  const file = (name: string, task = 'instances') => path.join(broken(name), 'annotations', `${task}_default.json`);

  it('every schema is draft 2020-12 with an $id and compiles in ajv strict mode (union types allowed)', () => {
    const strict = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    for (const name of fs.readdirSync(schemas)) {
      const schema = JSON.parse(fs.readFileSync(path.join(schemas, name), 'utf8')) as Record<string, unknown>;
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toBe(`https://datum.dev/schemas/coco/${name}`);
      expect(() => strict.compile(schema)).not.toThrow();
    }
    expect(fs.readdirSync(schemas).sort()).toEqual(['captions', 'image_info', 'instances', 'labels', 'panoptic', 'person_keypoints', 'stuff'].map((t) => `${t}.schema.json`));
  });

  it('agrees with datum validate on the schema defects of the fixtures', async () => {
    for (const name of ['sound', 'no-images', 'bbox-3-numbers', 'polygon-4-numbers', 'category-no-id', 'non-object', 'string-ids']) {
      const whole = check('instances', file(name));
      const streamed = errors(await validate(broken(name))).map((d) => d.pointer);
      expect(whole.pointers, name).toEqual(streamed);
      expect(whole.ok, name).toBe(streamed.length === 0);
    }
    expect(check('person_keypoints', file('keypoints-sound', 'person_keypoints'))).toEqual({ ok: true, pointers: [] });
  });

  it('accepts every corpus and repo COCO file', () => {
    const files: [string, string][] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.json')) files.push([p, /^(.+)_[^_]+\.json$/.exec(e.name)?.[1].replace(/^_annotations\.coco$/, '') || 'instances']);
      }
    };
    walk(fixture('coco'));
    if (fs.existsSync(corpus('coco_dataset'))) walk(corpus('coco_dataset'));
    for (const [p, task] of files) expect(check(task, p), p).toEqual({ ok: true, pointers: [] });
  });

  it('what only the code checks (even polygons, keypoint triplets) passes the schema alone', () => {
    expect(check('instances', file('polygon-odd')).ok).toBe(true);
    expect(check('person_keypoints', file('keypoints-not-triplets', 'person_keypoints')).ok).toBe(true);
  });
});
