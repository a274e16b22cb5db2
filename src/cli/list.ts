import type { Command } from 'commander';
import { listFormats, listTransforms } from '../registry.js';
import type { CommandEnv } from './env.js';

/** `datum formats` and `datum transforms`: what is registered (built-ins and --plugin modules). */
export function registerLists(program: Command, env: CommandEnv): void {
  const { print } = env;
  program.command('formats')
    .description('list the formats, what each can do, and their options')
    .option('--json', 'print the list as JSON')
    .action(() => {
      const formats = listFormats();
      if (env.isJson()) {
        print(JSON.stringify(formats.map((f) => ({
          name: f.name, aliases: f.aliases ?? [], description: f.description,
          import: Boolean(f.import), export: Boolean(f.export), detect: Boolean(f.detect), exportOptions: f.exportOptions ?? [],
        }))));
        return;
      }
      for (const f of formats) {
        const can = [f.import && 'import', f.export && 'export'].filter(Boolean).join('+') || 'not implemented';
        print(`${f.name}${f.aliases?.length ? ` (${f.aliases.join(', ')})` : ''}  [${can}]  ${f.description}`);
        for (const o of f.exportOptions ?? []) print(`    -- --${o.name}${o.type === 'boolean' ? '' : ` <${o.choices?.join('|') ?? o.type}>`}  ${o.description}`);
      }
    });

  program.command('transforms')
    .description('list the transforms (-t name:args of convert and transform) with their arguments')
    .option('--json', 'print the list as JSON')
    .action(() => {
      const transforms = listTransforms();
      if (env.isJson()) {
        print(JSON.stringify(transforms.map((t) => ({
          name: t.name, aliases: t.aliases ?? [], description: t.description, args: t.args, example: t.example, holdsDataset: Boolean(t.holdsDataset),
        }))));
        return;
      }
      for (const t of transforms) {
        print(`${t.name}${t.args ? `:${t.args}` : ''}${t.holdsDataset ? '   (holds the whole dataset in memory)' : ''}`);
        print(`    ${t.description}`);
        print(`    e.g. -t ${shellQuoted(t.example)}`);
      }
    });
}

/** `text` as one shell word: single-quoted when it holds anything the shell would act on. */
function shellQuoted(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
