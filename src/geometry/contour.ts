import type { Bitmap } from './mask.js';

/**
 * Outer boundaries of the 8-connected components of a bitmap, as flat polygons whose vertices lie on
 * pixel corners (pixel (x, y) covers [x, x+1] x [y, y+1]), so filling the polygon gives back the
 * component's pixels except its holes. Only the corners where the boundary turns are kept.
 * Components come in raster order of their first pixel; each polygon runs clockwise on screen.
 */
export function traceOuterContours(bitmap: Bitmap, offsetX = 0, offsetY = 0): { points: number[]; area: number }[] {
  const { width, data } = bitmap;
  const component = new Int32Array(data.length); // 0 = not yet labelled
  const contours: { points: number[]; area: number }[] = [];
  let label = 0;
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || component[start]) continue;
    label++;
    const area = fillComponent(bitmap, component, start, label);
    const points = traceFrom(bitmap, start % width, Math.floor(start / width));
    for (let i = 0; i < points.length; i += 2) { points[i] += offsetX; points[i + 1] += offsetY; }
    contours.push({ points, area });
  }
  return contours;
}

/** Labels the 8-connected component containing `start`; returns its pixel count. */
function fillComponent(bitmap: Bitmap, component: Int32Array, start: number, label: number): number {
  const { width, height, data } = bitmap;
  const stack = [start];
  component[start] = label;
  let area = 0;
  while (stack.length) {
    const p = stack.pop()!;
    area++;
    const x = p % width;
    const y = (p - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const q = ny * width + nx;
        if (data[q] && !component[q]) { component[q] = label; stack.push(q); }
      }
    }
  }
  return area;
}

// Directions on screen (y down): right, down, left, up.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];

/**
 * Follows the pixel edges around the component whose first pixel in raster order is (sx, sy), keeping
 * the component on the right-hand side; diagonal neighbours count as connected (8-connectivity).
 */
function traceFrom(bitmap: Bitmap, sx: number, sy: number): number[] {
  const { width, height, data } = bitmap;
  const set = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && data[y * width + x] === 1;
  const points = [sx, sy];
  let x = sx + 1, y = sy, d = 0;
  while (x !== sx || y !== sy) {
    const left = (d + 3) % 4;
    const right = (d + 1) % 4;
    // The two pixels ahead of corner (x, y), on the left and on the right of the direction of travel.
    const aheadLeft = set(Math.floor(x + (DX[d] + DX[left]) / 2), Math.floor(y + (DY[d] + DY[left]) / 2));
    const aheadRight = set(Math.floor(x + (DX[d] + DX[right]) / 2), Math.floor(y + (DY[d] + DY[right]) / 2));
    const next = aheadLeft ? left : aheadRight ? d : right;
    if (next !== d) points.push(x, y);
    d = next;
    x += DX[d];
    y += DY[d];
  }
  return points;
}
