import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { FormatPlugin, TransformPlugin } from './plugin.js';
import { UsageError } from './diagnostics.js';

const formats = new Map<string, FormatPlugin>();
const transforms = new Map<string, TransformPlugin>();

function register<P extends { name: string; aliases?: readonly string[] }>(registry: Map<string, P>, kind: string, plugin: P): void {
  for (const name of [plugin.name, ...(plugin.aliases ?? [])]) {
    const key = normalizeName(name);
    const existing = registry.get(key);
    if (existing && existing !== plugin) throw new UsageError(`${kind} name '${name}' is already registered by '${existing.name}'`);
    registry.set(key, plugin);
  }
}

export function registerFormat(plugin: FormatPlugin): void {
  register(formats, 'format', plugin);
}

export function registerTransform(plugin: TransformPlugin): void {
  register(transforms, 'transform', plugin);
}

export function findTransform(name: string): TransformPlugin | undefined {
  return transforms.get(normalizeName(name));
}

export function getTransform(name: string): TransformPlugin {
  const plugin = findTransform(name);
  if (!plugin) throw new UsageError(`unknown transform '${name}'; known transforms: ${listTransforms().map((t) => t.name).join(', ')} (see \`datum transforms\`)`);
  return plugin;
}

export function listTransforms(): TransformPlugin[] {
  return [...new Set(transforms.values())].sort((a, b) => a.name.localeCompare(b.name));
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

/**
 * Loads a third-party plugin module (a path or package name) whose default export is a plugin or a
 * list of them: format plugins, and transform plugins (those with a `create` function).
 */
export async function loadPluginModule(specifier: string): Promise<void> {
  const target = specifier.startsWith('.') || path.isAbsolute(specifier)
    ? pathToFileURL(path.resolve(specifier)).href
    : specifier;
  const mod = await import(target);
  const exported = mod.default ?? mod.plugin;
  const plugins: unknown[] = Array.isArray(exported) ? exported : [exported];
  for (const p of plugins) {
    const plugin = p as Partial<TransformPlugin & FormatPlugin> | undefined;
    if (!plugin || typeof plugin.name !== 'string') throw new UsageError(`plugin module '${specifier}' does not export a format or transform plugin (an object with a name)`);
    const isTransform = typeof plugin.create === 'function';
    const missing = (isTransform ? ['description', 'args', 'example'] : ['description']).filter((k) => typeof plugin[k as keyof typeof plugin] !== 'string');
    if (missing.length) throw new UsageError(`plugin module '${specifier}': ${isTransform ? 'transform' : 'format'} '${plugin.name}' has no ${missing.join(', ')} (a string each)`);
    try {
      if (isTransform) registerTransform(plugin as TransformPlugin);
      else registerFormat(plugin as FormatPlugin);
    } catch (error) {
      throw error instanceof UsageError ? new UsageError(`plugin module '${specifier}': ${error.message}`) : error;
    }
  }
}

/** `yolo-ultralytics`, `YOLO_Ultralytics` and `yolo_ultralytics` name the same format. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}
