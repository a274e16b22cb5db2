/**
 * The report's charts as inline SVG strings, drawn here rather than by a chart library: the page must
 * open from disk with no script and no network, and bars, histograms and a heatmap are a few rects each.
 * Every chart is one <svg class="chart"> with explicit width and height and a <title>.
 */

/** Series colours (Okabe-Ito, distinguishable with the common colour-vision deficiencies). */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A generous width per character of the charts' 11 px font (no text measuring without a layout engine). */
export const LEGEND_CHAR_WIDTH = 6.5;

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(n < 1 ? 3 : 1));

function svg(kind: string, title: string, width: number, height: number, body: string): string {
  return `<svg class="chart" data-chart="${escapeHtml(kind)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${body}</svg>`;
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${escapeHtml(content)}</text>`;
}

/** The ellipsized name, so long label names do not push the bars off the chart. */
function clip(name: string, max: number): string {
  return name.length > max ? name.slice(0, max - 1) + '…' : name;
}

export interface BarRow { name: string; values: number[] }

/**
 * Horizontal bars, one row per name: `stacked` puts the series end to end (annotations of a label per
 * subset), `grouped` gives each series a thin bar of its own (share in the dataset vs in the set).
 */
export function barChart(title: string, rows: readonly BarRow[], series: readonly string[], mode: 'stacked' | 'grouped' = 'stacked', width = 640): string {
  const labelWidth = 150;
  const rowHeight = mode === 'grouped' ? 6 + 8 * series.length : 18;
  const parts: string[] = [];
  // legend entries one after another as wide as their names, on more lines when they do not fit
  let lx = labelWidth;
  let ly = 4;
  series.forEach((s, k) => {
    if (series.length < 2) return;
    const name = clip(s, 40);
    const w = 14 + name.length * LEGEND_CHAR_WIDTH + 12;
    if (lx + w > width && lx > labelWidth) { lx = labelWidth; ly += 16; }
    parts.push(`<rect x="${lx.toFixed(1)}" y="${ly}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/>`, text(lx + 14, ly + 9, name, 'class="legend"'));
    lx += w;
  });
  const legend = series.length > 1 ? ly + 18 : 0;
  const height = legend + rows.length * rowHeight + 8;
  const plot = width - labelWidth - 60;
  const max = Math.max(1e-12, ...rows.map((r) => (mode === 'stacked' ? r.values.reduce((a, b) => a + b, 0) : Math.max(0, ...r.values))));
  rows.forEach((r, i) => {
    const y = legend + i * rowHeight;
    parts.push(text(labelWidth - 6, y + rowHeight / 2 + 4, clip(r.name, 22), 'text-anchor="end"'));
    let x = labelWidth;
    r.values.forEach((v, k) => {
      const w = (v / max) * plot;
      const fill = PALETTE[k % PALETTE.length];
      const tip = `<title>${escapeHtml(`${r.name} · ${series[k] ?? ''}: ${fmt(v)}`)}</title>`;
      if (mode === 'stacked') {
        if (w > 0) parts.push(`<rect class="bar" x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${fill}">${tip}</rect>`);
        x += w;
      } else {
        parts.push(`<rect class="bar" x="${labelWidth}" y="${y + 3 + k * 8}" width="${Math.max(w, 0.5).toFixed(1)}" height="6" fill="${fill}">${tip}</rect>`);
      }
    });
    const total = mode === 'stacked' ? r.values.reduce((a, b) => a + b, 0) : Math.max(0, ...r.values);
    parts.push(text((mode === 'stacked' ? x : labelWidth + (total / max) * plot) + 4, y + rowHeight / 2 + 4, fmt(total), 'class="value"'));
  });
  return svg('bars', title, width, height, parts.join(''));
}

export interface Bin { label: string; count: number }

/** Vertical bars over fixed bins, the bin labels below (every other one when crowded). */
export function histogram(title: string, bins: readonly Bin[], width = 420, height = 180): string {
  const left = 40;
  const bottom = 34;
  const plotW = width - left - 8;
  const plotH = height - bottom - 16;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const step = plotW / Math.max(1, bins.length);
  const every = Math.ceil(bins.length / Math.max(1, Math.floor(plotW / 34)));
  const parts = [
    `<line x1="${left}" y1="${16 + plotH}" x2="${width - 8}" y2="${16 + plotH}" class="axis"/>`,
    text(left - 4, 20, fmt(max), 'text-anchor="end" class="tick"'),
    text(left - 4, 16 + plotH, '0', 'text-anchor="end" class="tick"'),
  ];
  bins.forEach((b, i) => {
    const h = (b.count / max) * plotH;
    const x = left + i * step;
    parts.push(`<rect class="bar" x="${(x + 1).toFixed(1)}" y="${(16 + plotH - h).toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[0]}"><title>${escapeHtml(`${b.label}: ${b.count}`)}</title></rect>`);
    if (i % every === 0) parts.push(text(x + step / 2, 16 + plotH + 14, b.label, 'text-anchor="middle" class="tick"'));
  });
  return svg('histogram', title, width, height, parts.join(''));
}

/**
 * A grid of counts as cells shaded by count (rows top to bottom, as image y grows downwards), in a
 * square of `size` pixels with the image frame drawn around it.
 */
export function heatmap(title: string, grid: readonly number[], columns: number, size = 240): string {
  const rows = Math.ceil(grid.length / columns);
  const cw = size / columns;
  const ch = size / rows;
  const max = Math.max(1, ...grid);
  const parts: string[] = [];
  grid.forEach((n, i) => {
    if (!n) return;
    const x = (i % columns) * cw;
    const y = Math.floor(i / columns) * ch;
    parts.push(`<rect class="cell" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cw.toFixed(1)}" height="${ch.toFixed(1)}" fill="${PALETTE[5]}" fill-opacity="${(0.12 + 0.88 * (n / max)).toFixed(3)}"><title>${n}</title></rect>`);
  });
  parts.push(`<rect x="0.5" y="0.5" width="${size - 1}" height="${size - 1}" fill="none" class="frame"/>`);
  return svg('heatmap', title, size, size, parts.join(''));
}
