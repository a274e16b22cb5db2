import type { Dataset } from './model.js';
import type { Reporter } from './diagnostics.js';

/** A format-specific option, declared by a plugin and parsed by the core (e.g. `-- --save-media`). */
export interface OptionSpec {
  name: string;
  type: 'boolean' | 'string' | 'number';
  description: string;
  choices?: readonly string[];
}
export type Options = Record<string, string | number | boolean | undefined>;

export interface Context {
  reporter: Reporter;
  /** Reports progress of long work; the CLI shows it on stderr when that is a terminal. */
  progress: (label: string, done: number, total?: number) => void;
}

export interface Detection {
  /** 0 (certainly not: rejected) .. 1 (certainly this format). */
  confidence: number;
  /**
   * The evidence, for the user: `annotations.xml with <annotations><version>1.1`; or, at confidence 0,
   * why the folder was rejected: `no annotations.xml`, `instances_val.json has no "images" key`.
   */
  reason: string;
}

export interface ExportSummary {
  items: number;
  /** Annotations written, by model kind. */
  annotations?: Record<string, number>;
  /**
   * Annotations not written, counted by reason: a short phrase or warning code of the plugin's
   * (`caption`, `no-image-size`, `polyline in detect task`...). The items concerned are in the
   * warnings reported with it.
   */
  dropped?: Record<string, number>;
}

/**
 * A format plugin. Built-ins live in `formats/<name>/` and are listed in `formats/index.ts`; a
 * third-party package exports the same object (or an array of them) as its default export and is
 * loaded with `datum --plugin <module>`.
 */
export interface FormatPlugin {
  /** Name used on the command line: `cvat`, `coco`, `yolo_ultralytics`. */
  name: string;
  aliases?: readonly string[];
  description: string;
  /**
   * A cheap look at file names and the first few KB of files, never a whole large file: a confidence
   * with its evidence, or confidence 0 with why it rejects `input` (null: rejected, no reason given).
   */
  detect?(input: string): Promise<Detection | null>;
  import?(input: string, options: Options, ctx: Context): Promise<Dataset>;
  importOptions?: readonly OptionSpec[];
  /**
   * Writes the dataset into `output`, an empty folder the core created (a temporary one beside the
   * user's output folder, renamed into place when this resolves). Consume `dataset.items` once.
   */
  export?(dataset: Dataset, output: string, options: Options, ctx: Context): Promise<ExportSummary>;
  exportOptions?: readonly OptionSpec[];
  /**
   * The format's structural checks of the files at `input` (the dataset root `detect` found, or the
   * path given): JSON Schemas, required XML elements and attributes, numeric fields that parse,
   * label-line syntax. Each defect goes to `ctx.reporter.report` as a Diagnostic with its severity, a
   * stable code and the file plus line, JSON pointer or element path. Streams: never holds a whole
   * large file. `options.task` is the `--task` of `datum validate` when given. The semantic checks
   * on the imported model (src/validate/) run after it; an importer warning at a location this
   * already reported is not repeated.
   */
  validate?(input: string, options: Options, ctx: Context): Promise<void>;
}

/**
 * A transform as the pipeline runs it: a dataset in, a dataset out. Streaming transforms map
 * `dataset.items` lazily, item by item; the others (`holdsDataset`) read every item first.
 * Transforms report what they changed or dropped through `ctx.reporter` (an `info` with counts when
 * their items end; a warning per item concerned where one is worth naming).
 */
export type Transform = (dataset: Dataset, ctx: Context) => Dataset | Promise<Dataset>;

/**
 * A transform plugin, written on the command line as `name:arguments` (`-t map_subsets:Train=train`).
 * Built-ins live in `src/transforms/<name>.ts` and are listed in `src/transforms/index.ts`; a
 * third-party module passed to `--plugin` exports one (or a list, mixed with format plugins).
 */
export interface TransformPlugin {
  name: string;
  aliases?: readonly string[];
  description: string;
  /** The arguments after `name:` as the user writes them, e.g. `OLD=NEW,...[;default=keep|delete]`; '' when it takes none. */
  args: string;
  /** One complete `-t` value, shown in `datum transforms` and the README. */
  example: string;
  /** True when it must read every item before it yields the first (it holds the whole dataset in memory). */
  holdsDataset?: boolean;
  /** Parses the arguments (a UsageError for bad ones) into the transform. */
  create(args: string): Transform;
}
