import fs from 'node:fs/promises';
import path from 'node:path';
import type { FormatPlugin } from '../../src/plugin.js';
import type { Item } from '../../src/model.js';
import { DatumError } from '../../src/diagnostics.js';

/**
 * A minimal plugin for core tests: the model as JSON (`dataset.json`). Export option `--fail-after N`
 * throws after writing N items, to test that failed exports leave nothing behind.
 */
export const jsonPlugin: FormatPlugin = {
  name: 'test_json',
  description: 'the model as JSON, for tests',
  async detect(input) {
    const file = input.endsWith('.json') ? input : path.join(input, 'dataset.json');
    return (await fs.stat(file).catch(() => null)) ? { confidence: 0.9, reason: 'dataset.json' } : null;
  },
  async import(input) {
    const file = input.endsWith('.json') ? input : path.join(input, 'dataset.json');
    const text = await fs.readFile(file, 'utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DatumError({ code: 'bad-json', file, message: (error as Error).message });
    }
  },
  exportOptions: [
    { name: 'fail-after', type: 'number', description: 'throw after writing this many items' },
    { name: 'pretty', type: 'boolean', description: 'indent the JSON' },
  ],
  async export(dataset, output, options) {
    const items: Item[] = [];
    for await (const item of dataset.items) {
      if (options['fail-after'] !== undefined && items.length >= Number(options['fail-after'])) {
        throw new DatumError({ code: 'test-failure', item: item.id, message: 'failing on purpose' });
      }
      items.push(item);
      await fs.writeFile(path.join(output, `${items.length}.part`), item.id);
    }
    await fs.writeFile(path.join(output, 'dataset.json'), JSON.stringify({ categories: dataset.categories, items }, null, options.pretty ? 2 : 0));
    return { items: items.length };
  },
};
