import { Reporter, type Diagnostic } from '../../src/diagnostics.js';
import type { FormatPlugin, Options } from '../../src/plugin.js';

/** What a format plugin's structural `validate()` reports for `input`, in order. */
export async function structuralFindings(plugin: FormatPlugin, input: string, options: Options = {}): Promise<Diagnostic[]> {
  const reporter = new Reporter();
  await plugin.validate!(input, options, { reporter, progress: () => {} });
  return reporter.messages;
}
