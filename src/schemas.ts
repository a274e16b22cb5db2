import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Diagnostic, Severity } from './diagnostics.js';

/**
 * JSON Schemas (draft 2020-12) live with their plugin, in `formats/<name>/schemas/*.json`, and are
 * shipped as they are so other tools can use them. One ajv instance compiles each schema once.
 */
const ajv = new Ajv2020({ allErrors: true, strict: false });
const compiled = new Map<string, ValidateFunction>();

/**
 * The schema file `name` of the plugin whose module is `moduleUrl` (pass `import.meta.url`): found in
 * `schemas/` beside the module, or, when running from the build (`dist/formats/<x>/`), in the
 * package's own `formats/<x>/schemas/`.
 */
export function schemaFile(moduleUrl: string, name: string): string {
  const beside = fileURLToPath(new URL(`schemas/${name}`, moduleUrl));
  if (fs.existsSync(beside)) return beside;
  return beside.replace(/[\\/]dist([\\/]formats[\\/])/, '$1');
}

/**
 * A compiled validator for a schema file, or for a definition inside it (`ref`: `#/$defs/image`),
 * so a big file can be checked element by element against the same schema that describes it whole.
 */
export function schemaValidator(file: string, ref = ''): ValidateFunction {
  const key = file + ref;
  let validate = compiled.get(key);
  if (!validate) {
    let schema = ajv.getSchema(file);
    if (!schema) {
      ajv.addSchema(JSON.parse(fs.readFileSync(file, 'utf8')), file);
      schema = ajv.getSchema(file)!;
    }
    validate = ref ? ajv.getSchema(file + ref) : schema;
    if (!validate) throw new Error(`schema ${file} has no definition ${ref}`);
    compiled.set(key, validate);
  }
  return validate;
}

/**
 * ajv's errors as findings: each names the data file, the JSON pointer (under `basePointer` when an
 * element was checked on its own) and what the schema expected.
 */
export function schemaFindings(errors: readonly ErrorObject[] | null | undefined, where: { file: string; basePointer?: string; line?: number; code?: string; severity?: Severity }): Diagnostic[] {
  return (errors ?? []).map((e) => {
    const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty: string }).missingProperty)}` : '';
    const pointer = (where.basePointer ?? '') + e.instancePath + missing || '/';
    const message = e.keyword === 'required'
      ? `missing required key "${String((e.params as { missingProperty: string }).missingProperty)}"`
      : e.keyword === 'additionalProperties'
        ? `unexpected key "${String((e.params as { additionalProperty: string }).additionalProperty)}"`
        : `${e.instancePath ? 'value' : 'the file'} ${e.message ?? 'does not match the schema'}`;
    return {
      severity: where.severity ?? 'error', code: where.code ?? 'schema', file: where.file, pointer, message,
      ...(where.line !== undefined ? { line: where.line } : {}),
    };
  });
}
