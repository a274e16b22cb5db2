/**
 * Polygon helpers shared by formats: rotated-box corners and back, bounds, and joining the parts of a
 * multi-part object into one outline (formats such as YOLO hold one polygon per object).
 */

/** A rotated box as the model stores it: top-left x, y, size w x h, `rotation` degrees clockwise about the centre. */
export interface RotatedBox { x: number; y: number; w: number; h: number; rotation?: number }

/**
 * The four corners (flat x1 y1 .. x4 y4) of a box rotated clockwise (image y axis points down) about its
 * centre, in the order top-left, top-right, bottom-right, bottom-left of the unrotated box.
 */
export function rotatedBoxCorners(box: RotatedBox): number[] {
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  const angle = ((box.rotation ?? 0) * Math.PI) / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const corners: number[] = [];
  for (const [dx, dy] of [[-box.w / 2, -box.h / 2], [box.w / 2, -box.h / 2], [box.w / 2, box.h / 2], [-box.w / 2, box.h / 2]]) {
    corners.push(cx + dx * cos - dy * sin, cy + dx * sin + dy * cos);
  }
  return corners;
}

/**
 * The inverse of `rotatedBoxCorners` for four corners in that order: centre = mean of the corners,
 * width = first edge, height = second edge, rotation = the first edge's angle in [0, 360).
 * A quadrilateral that is not a rectangle gets the box of its first two edges.
 */
export function boxFromCorners(corners: readonly number[]): Required<RotatedBox> {
  const [x1, y1, x2, y2, x3, y3, x4, y4] = corners;
  const cx = (x1 + x2 + x3 + x4) / 4;
  const cy = (y1 + y2 + y3 + y4) / 4;
  const w = Math.hypot(x2 - x1, y2 - y1);
  const h = Math.hypot(x3 - x2, y3 - y2);
  let rotation = (Math.atan2(y2 - y1, x2 - x1) * 180) / Math.PI;
  if (rotation < 0) rotation += 360;
  if (Math.abs(rotation - 360) < 1e-9) rotation = 0;
  return { x: cx - w / 2, y: cy - h / 2, w, h, rotation };
}

export interface Bounds { x0: number; y0: number; x1: number; y1: number }

/** Axis-aligned bounds of flat points. */
export function pointBounds(points: readonly number[]): Bounds {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    x0 = Math.min(x0, points[i]); x1 = Math.max(x1, points[i]);
    y0 = Math.min(y0, points[i + 1]); y1 = Math.max(y1, points[i + 1]);
  }
  return { x0, y0, x1, y1 };
}

/** Axis-aligned hull of a possibly rotated box. */
export function boxBounds(box: RotatedBox): Bounds {
  if (!box.rotation) return { x0: box.x, y0: box.y, x1: box.x + box.w, y1: box.y + box.h };
  return pointBounds(rotatedBoxCorners(box));
}

/**
 * Joins the parts of one object (flat polygons) into a single closed outline, as Ultralytics'
 * COCO converter does (`merge_multi_segment`): consecutive parts are linked at their closest pair of
 * points; the walk goes forward through the chain, around the last part, and back, so each link is
 * crossed twice and the outline encloses every part.
 */
export function mergePolygonParts(parts: readonly number[][]): number[] {
  const polys = parts.map(toPairs).filter((p) => p.length > 0);
  if (polys.length === 0) return [];
  if (polys.length === 1) return polys[0].flat();
  // links[i] = [index in polys[i], index in polys[i + 1]] of their closest points
  const links = polys.slice(1).map((next, i) => closestPair(polys[i], next));
  const out: [number, number][] = [];
  const n = polys.length;
  // First part: all the way round from its link point back to it.
  out.push(...cyclic(polys[0], links[0][0], links[0][0]));
  // Forward: each middle part from where we enter to where we leave; when that is one point, the part
  // is walked round on the way back only (walked twice, even-odd filling such as cv2.fillPoly would
  // leave it empty).
  for (let i = 1; i < n - 1; i++) {
    const enter = links[i - 1][1], leave = links[i][0];
    out.push(...(enter === leave ? [polys[i][enter]] : cyclic(polys[i], enter, leave)));
  }
  // Last part: all the way round.
  out.push(...cyclic(polys[n - 1], links[n - 2][1], links[n - 2][1]));
  // Back: the rest of each middle part, from where we left to where we entered.
  for (let i = n - 2; i >= 1; i--) out.push(...cyclic(polys[i], links[i][0], links[i - 1][1]));
  return out.flat();
}

function toPairs(flat: readonly number[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}

function closestPair(a: [number, number][], b: [number, number][]): [number, number] {
  let best = Infinity;
  let pair: [number, number] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const d = (a[i][0] - b[j][0]) ** 2 + (a[i][1] - b[j][1]) ** 2;
      if (d < best) { best = d; pair = [i, j]; }
    }
  }
  return pair;
}

/** Points of `poly` from index `from` to index `to` going forward, both included; the closed ring when from === to. */
function cyclic(poly: [number, number][], from: number, to: number): [number, number][] {
  const n = poly.length;
  const count = from === to ? n + 1 : ((to - from + n) % n) + 1;
  return Array.from({ length: count }, (_, k) => poly[(from + k) % n]);
}

/** Area of a flat polygon (shoelace, absolute). */
export function polygonArea(points: readonly number[]): number {
  let twice = 0;
  const n = points.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    twice += points[2 * i] * points[2 * j + 1] - points[2 * j] * points[2 * i + 1];
  }
  return Math.abs(twice) / 2;
}

/** Axis-aligned hull of an ellipse with radii rx, ry rotated `rotation` degrees about its centre. */
export function ellipseBounds(e: { cx: number; cy: number; rx: number; ry: number; rotation?: number }): Bounds {
  const angle = ((e.rotation ?? 0) * Math.PI) / 180;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const hx = Math.hypot(e.rx * cos, e.ry * sin);
  const hy = Math.hypot(e.rx * sin, e.ry * cos);
  return { x0: e.cx - hx, y0: e.cy - hy, x1: e.cx + hx, y1: e.cy + hy };
}

/**
 * A polygon clipped to the rectangle `r` (Sutherland–Hodgman, one edge at a time); consecutive
 * repeated points are removed. Fewer than 3 points when nothing of it is inside.
 */
export function clipPolygonToRect(points: readonly number[], r: Bounds): number[] {
  // Each edge: is (x, y) inside, and where segment a-b crosses the edge line.
  const edges: [(x: number, y: number) => boolean, (ax: number, ay: number, bx: number, by: number) => [number, number]][] = [
    [(x) => x >= r.x0, (ax, ay, bx, by) => [r.x0, ay + ((r.x0 - ax) / (bx - ax)) * (by - ay)]],
    [(x) => x <= r.x1, (ax, ay, bx, by) => [r.x1, ay + ((r.x1 - ax) / (bx - ax)) * (by - ay)]],
    [(_, y) => y >= r.y0, (ax, ay, bx, by) => [ax + ((r.y0 - ay) / (by - ay)) * (bx - ax), r.y0]],
    [(_, y) => y <= r.y1, (ax, ay, bx, by) => [ax + ((r.y1 - ay) / (by - ay)) * (bx - ax), r.y1]],
  ];
  let pts = toPairs(points);
  for (const [inside, cross] of edges) {
    const out: [number, number][] = [];
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[(i + pts.length - 1) % pts.length];
      const [bx, by] = pts[i];
      const aIn = inside(ax, ay), bIn = inside(bx, by);
      if (bIn) {
        if (!aIn) out.push(cross(ax, ay, bx, by));
        out.push([bx, by]);
      } else if (aIn) {
        out.push(cross(ax, ay, bx, by));
      }
    }
    pts = out;
    if (!pts.length) break;
  }
  const kept = pts.filter((p, i) => {
    const q = pts[(i + pts.length - 1) % pts.length];
    return pts.length === 1 || p[0] !== q[0] || p[1] !== q[1];
  });
  return kept.flat();
}

/**
 * A polyline clipped to the rectangle `r` (Liang–Barsky on each segment): the pieces inside, each
 * at least two points; a polyline that leaves and comes back gives several pieces.
 */
export function clipPolylineToRect(points: readonly number[], r: Bounds): number[][] {
  const pieces: number[][] = [];
  let current: number[] | null = null;
  for (let i = 0; i + 3 < points.length; i += 2) {
    const [ax, ay, bx, by] = [points[i], points[i + 1], points[i + 2], points[i + 3]];
    const dx = bx - ax, dy = by - ay;
    let t0 = 0, t1 = 1;
    // p * t <= q for each of the four edges.
    for (const [p, q] of [[-dx, ax - r.x0], [dx, r.x1 - ax], [-dy, ay - r.y0], [dy, r.y1 - ay]]) {
      if (p === 0) { if (q < 0) { t0 = 1; t1 = 0; } continue; }
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
    }
    if (t0 > t1) { current = null; continue; }
    if (!current || t0 > 0) pieces.push(current = [ax + t0 * dx, ay + t0 * dy]);
    const ex = ax + t1 * dx, ey = ay + t1 * dy;
    if (ex !== current[current.length - 2] || ey !== current[current.length - 1]) current.push(ex, ey);
    if (t1 < 1) current = null;
  }
  // A piece that only touches the rectangle (all its points equal) is no line.
  return pieces.filter((piece) => piece.some((v, i) => v !== piece[i % 2]));
}
