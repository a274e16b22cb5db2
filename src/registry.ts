import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { FormatPlugin } from './plugin.js';
import { UsageError } from './diagnostics.js';

const formats = new Map<string, FormatPlugin>();

export function registerFormat(plugin: FormatPlugin): void {
  for (const name of [plugin.name, ...(plugin.aliases ?? [])]) {
    const key = normalizeName(name);
    const existing = formats.get(key);
    if (existing && existing !== plugin) throw new Error(`format name '${name}' is already registered by '${existing.name}'`);
    formats.set(key, plugin);
  }
}

export function findFormat(name: string): FormatPlugin | undefined {
  return formats.get(normalizeName(name));
}

export function getFormat(name: string, need?: 'import' | 'export'): FormatPlugin {
  const plugin = findFormat(name);
  if (!plugin) throw new UsageError(`unknown format '${name}'; known formats: ${formatNames().join(', ')}`);
  if (need && !plugin[need]) {
    const able = listFormats().filter((p) => p[need]).map((p) => p.name);
    throw new UsageError(`format '${plugin.name}' cannot ${need}; formats that can: ${able.join(', ')}`);
  }
  return plugin;
}

export function listFormats(): FormatPlugin[] {
  return [...new Set(formats.values())].sort((a, b) => a.name.localeCompare(b.name));
}

export function formatNames(): string[] {
  return listFormats().map((p) => p.name);
}

/** Loads a third-party plugin module (a path or package name) whose default export is a plugin or a list. */
export async function loadPluginModule(specifier: string): Promise<void> {
  const target = specifier.startsWith('.') || path.isAbsolute(specifier)
    ? pathToFileURL(path.resolve(specifier)).href
    : specifier;
  const mod = await import(target);
  const exported = mod.default ?? mod.plugin;
  const plugins: FormatPlugin[] = Array.isArray(exported) ? exported : [exported];
  for (const p of plugins) {
    if (!p || typeof p.name !== 'string') throw new UsageError(`plugin module '${specifier}' does not export a format plugin`);
    registerFormat(p);
  }
}

/** `yolo-ultralytics`, `YOLO_Ultralytics` and `yolo_ultralytics` name the same format. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}
