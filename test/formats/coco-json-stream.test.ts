import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { JsonSyntaxError, TopLevelScanner, scanJsonFile } from '../../formats/coco/json-stream.js';
import { DatumError } from '../../src/diagnostics.js';
import { tempDir } from '../helpers/corpus.js';

type Seen = [string, number, unknown, number];

/** Scans `text` pushed in the given chunk sizes; returns [key, index, parsed value, byte offset]. */
function scan(text: string | Buffer, chunkSizes: (i: number) => number = () => 1 << 20): Seen[] {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const seen: Seen[] = [];
  const scanner = new TopLevelScanner((key, index, slice, offset) => seen.push([key, index, JSON.parse(slice.toString('utf8')), offset]));
  for (let i = 0, n = 0; i < bytes.length; n++) {
    const size = Math.max(1, chunkSizes(n));
    scanner.push(bytes.subarray(i, i + size));
    i += size;
  }
  scanner.end();
  return seen;
}

const TRICKY = `{
  "annotations" : [ {"id": 1, "caption": "a } ] { [ \\" \\\\", "nested": [[1, [2, {"x": "]"}]], []]},
    {"id": 2, "caption": "\\u00fc \u00fc \u65e5\u672c \ud83c\udf89", "segmentation": [[1.5e2, -0.25, 3, 4, 5, 6]]} ,
    17, "text, with comma", true, null ],
  "info": {"description": "}}}", "year": 2017},
  "images": [],
  "note": "x",
  "count": -12.5e-3,
  "categories": [{"id": 90, "name": "tooth\\"brush"}]
}`;

describe('TopLevelScanner', () => {
  test('elements of every top-level array, other values whole, annotations before images', () => {
    const seen = scan(TRICKY);
    expect(seen.map(([k, i, v]) => [k, i, v])).toEqual([
      ['annotations', 0, { id: 1, caption: 'a } ] { [ " \\', nested: [[1, [2, { x: ']' }]], []] }],
      ['annotations', 1, { id: 2, caption: '\u00fc \u00fc \u65e5\u672c \ud83c\udf89', segmentation: [[150, -0.25, 3, 4, 5, 6]] }],
      ['annotations', 2, 17],
      ['annotations', 3, 'text, with comma'],
      ['annotations', 4, true],
      ['annotations', 5, null],
      ['info', -1, { description: '}}}', year: 2017 }],
      ['note', -1, 'x'],
      ['count', -1, -12.5e-3],
      ['categories', 0, { id: 90, name: 'tooth"brush' }],
    ]);
    // Offsets are byte offsets of each value's first byte (multi-byte characters count as bytes).
    const bytes = Buffer.from(TRICKY);
    for (const [, , value, offset] of seen) {
      const first = bytes[offset];
      expect(String.fromCharCode(first)).toBe(typeof value === 'object' && value !== null ? (Array.isArray(value) ? '[' : '{') : JSON.stringify(value)[0]);
    }
  });

  test('the same result for every split of the input into two chunks and for one byte at a time', () => {
    const whole = scan(TRICKY);
    const length = Buffer.byteLength(TRICKY);
    for (let cut = 1; cut < length; cut++) {
      expect(scan(TRICKY, (n) => (n === 0 ? cut : length))).toEqual(whole);
    }
    expect(scan(TRICKY, () => 1)).toEqual(whole);
    expect(scan(TRICKY, (n) => 1 + (n % 5))).toEqual(whole);
  });

  test('empty object and empty arrays', () => {
    expect(scan('  {}  ')).toEqual([]);
    expect(scan('{"images":[],"annotations":[ ]}')).toEqual([]);
  });

  test.each([
    ['[1, 2]', /top level/, 0],
    ['{"a" 1}', /expected ':'/, 5],
    ['{"a": [1 2]}', /expected ',' or '\]'/, 9],
    ['{"a": 1} x', /after the end/, 9],
    ['{"a": [1,]}', /expected a value/, 9],
    ['{"a": {"b": [1, 2}', /not closed/, 18],
    ['{"a": 1, }', /expected a key/, 9],
    ['{"a": [{"s": "open}]}', /not closed/, 21],
  ])('syntax error in %s', (text, message, offset) => {
    let error: unknown;
    try { scan(text); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).message).toMatch(message);
    expect((error as JsonSyntaxError).offset).toBe(offset);
  });
});

describe('scanJsonFile', () => {
  test('a file of several read chunks (1 MiB each) with elements straddling them', async () => {
    const dir = tempDir('coco-scan-');
    const file = path.join(dir, 'big.json');
    const count = 60_000;
    const parts = ['{"info": {"x": "\u00e9"}, "annotations": ['];
    for (let i = 0; i < count; i++) parts.push(`${i ? ',' : ''}{"id": ${i}, "caption": "caf\u00e9 \u65e5 ${'x'.repeat(i % 17)}", "bbox": [${i}, 0.5, 2, 3]}`);
    parts.push(']}');
    fs.writeFileSync(file, parts.join('\n'));
    expect(fs.statSync(file).size).toBeGreaterThan(3 << 20);
    let n = 0;
    let sum = 0;
    await scanJsonFile(file, (key, index, bytes) => {
      if (key !== 'annotations') return;
      const a = JSON.parse(bytes.toString('utf8'));
      expect(a.id).toBe(index);
      expect(a.caption.startsWith('caf\u00e9 \u65e5')).toBe(true);
      sum += a.bbox[0];
      n++;
    });
    expect(n).toBe(count);
    expect(sum).toBe((count * (count - 1)) / 2);
  });

  test('a syntax error becomes a DatumError with file, offset and line', async () => {
    const file = path.join(tempDir('coco-scan-'), 'bad.json');
    fs.writeFileSync(file, '{\n"images": [\n{"id": 1}\n{"id": 2}]}');
    const error = (await scanJsonFile(file, () => {}).catch((e: unknown) => e)) as DatumError;
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'bad-json', file, line: 4, offset: 24 });
  });

  test('a key with a bad escape is a DatumError too, not an internal SyntaxError', async () => {
    const file = path.join(tempDir('coco-scan-'), 'bad-key.json');
    fs.writeFileSync(file, '{"images": [], "annot\\qations": []}');
    const error = (await scanJsonFile(file, () => {}).catch((e: unknown) => e)) as DatumError;
    expect(error).toBeInstanceOf(DatumError);
    expect(error.diagnostic).toMatchObject({ code: 'bad-json', file, line: 1, message: expect.stringMatching(/^malformed JSON at byte \d+: Bad escaped character/) });
  });
});

test('a UTF-8 byte order mark before the object is skipped, also when split across chunks', () => {
  const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"images": [{"id": 1}]}')]);
  expect(scan(text)).toEqual([['images', 0, { id: 1 }, 15]]);
  expect(scan(text, () => 1)).toEqual([['images', 0, { id: 1 }, 15]]);
});
