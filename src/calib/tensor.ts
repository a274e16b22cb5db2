/**
 * Calibration images as one NCHW/NHWC float32 batch in a NumPy .npy file (placeholder: being written;
 * the exported names and signatures below are the contract `datum calib --tensor` uses).
 */

export type ResizeMode = 'stretch' | 'short-side';
export type Layout = 'nchw' | 'nhwc';

export interface TensorOptions {
  width: number;
  height: number;
  /** Per channel, RGB, applied as (v / 255 - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /** stretch: resize to width x height ignoring the aspect ratio; short-side: cover, then crop. */
  resize: ResizeMode;
  /** With short-side: center crop to width x height (the only crop there is). */
  crop: 'center' | 'none';
  layout: Layout;
}

export const TENSOR_DEFAULTS: Omit<TensorOptions, 'width' | 'height'> = {
  mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resize: 'stretch', crop: 'none', layout: 'nchw',
};

/** The CLI's words (`--tensor 224x224 --mean .. --std .. --resize .. --crop .. --layout ..`) as options; UsageError when wrong. */
export function parseTensorOptions(_flags: { tensor: string; mean?: string; std?: string; resize?: string; crop?: string; layout?: string }): TensorOptions {
  throw new Error('tensor: not written yet');
}

/** Writes the images, in order, as one [N, 3, H, W] (or [N, H, W, 3]) float32 .npy at `file`. */
export async function writeTensor(_images: readonly string[], _file: string, _options: TensorOptions, _onProgress?: (done: number, total: number) => void): Promise<{ shape: number[]; bytes: number }> {
  throw new Error('tensor: not written yet');
}
