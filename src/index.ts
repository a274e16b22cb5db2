/** The library API: the model, the registry, the pipeline. Importing it registers the built-in formats. */
import '../formats/index.js';

export * from './model.js';
export * from './diagnostics.js';
export * from './plugin.js';
export { registerFormat, findFormat, getFormat, listFormats, loadPluginModule, registerTransform, findTransform, getTransform, listTransforms } from './registry.js';
export { convert, importDataset, detectFormat, detectFormats, createContext } from './pipeline.js';
export type { ConvertRequest, ConvertResult, DetectionResult } from './pipeline.js';
export { parseTransform, transformUsage } from './transforms/index.js';
export { computeStats } from './stats.js';
export type { DatasetStats } from './stats.js';
export { readFileHead } from './files.js';
export { locateDataset, detectDataset, isAmbiguous } from './detect.js';
export type { DatasetLocation, DetectReport, Candidate, Rejection, DatasetFound } from './detect.js';
export { validateDataset } from './validate/index.js';
export type { ValidateOptions, ValidationResult, ValidationTask } from './validate/index.js';
export { schemaFile, schemaValidator, schemaFindings } from './schemas.js';
export { applyTransforms, exportDataset, assertOutputApart } from './pipeline.js';
export { merge, mergeDatasets, mergeCategories, ON_CONFLICT } from './merge.js';
export type { OnConflict, MergeSource, MergeCounts, MergedLabels, MergeInput, MergeRequest, MergeResult } from './merge.js';
export { splitDataset, splitTransform, parseRatios } from './transforms/split.js';
export type { SplitOptions, SplitReport, SplitResult, SplitTask, SubsetReport } from './transforms/split.js';
