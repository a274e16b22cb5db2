/**
 * The report page: one HTML string with inline CSS and SVG, no script, nothing fetched. Tables are
 * capped (the most annotated labels first) so a dataset of 22k classes still gives a page a browser
 * opens at once; every number a test or a reader may look up carries a data- attribute.
 */
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import type { Manifest } from '../calib/index.js';
import type { DatasetStats } from '../stats.js';
import { plural as pluralOf } from '../text.js';
import type { ValidationResult } from '../validate/index.js';
import { HEAT_SIDE, type DatasetAggregate } from './aggregate.js';
import { barChart, escapeHtml as esc, heatmap, histogram, PALETTE } from './charts.js';
import { FRACTION_TOLERANCE, type Comparison } from './compare.js';

/** Rows of the label table, bars of the label chart, strata shown. */
const TABLE_LABELS = 100;
const CHART_LABELS = 30;
const CHART_STRATA = 40;
const FINDING_EXAMPLES = 3;
const MISSING_SHOWN = 30;

export interface Thumbnail { item: string; uri: string; width: number; height: number; placeholder: boolean }

export interface ReportPage {
  source: string;
  format: string;
  stats: DatasetStats;
  aggregate: DatasetAggregate;
  validation?: ValidationResult;
  /** Why there are no findings (validation failed to run). */
  validationError?: string;
  gallery: { label: string; thumbnails: Thumbnail[] }[];
  /** Why the gallery is empty (previews could not be drawn). */
  galleryNote?: string;
  /** `pictures[k]`: the k-th moved box drawn here and there, when it could be drawn. */
  comparison?: { other: string; format: string; result: Comparison; pictures?: (Thumbnail | undefined)[] };
  calibration?: { file: string; manifest: Manifest; found?: number };
}

const num = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const plural = (n: number, word: string) => pluralOf(n, word, word === 'box' ? 'boxes' : undefined).replace(/^\d+/, num(n));
const subsetName = (s: string) => s || '(none)';

export function renderReport(page: ReportPage): string {
  const thumbs = new Set(page.gallery.flatMap((g) => g.thumbnails.map((t) => t.item)));
  const sections = [
    summarySection(page),
    labelSection(page.aggregate),
    geometrySection(page.aggregate),
    findingsSection(page, thumbs),
    gallerySection(page),
    page.comparison ? compareSection(page.comparison) : '',
    page.calibration ? calibrationSection(page.calibration) : '',
  ].filter(Boolean);
  const nav = [['summary', 'Summary'], ['labels', 'Labels'], ['geometry', 'Boxes and images'], ['findings', 'Findings'], ['gallery', 'Gallery'],
    ...(page.comparison ? [['compare', 'Comparison']] : []), ...(page.calibration ? [['calibration', 'Calibration set']] : [])]
    .map(([id, name]) => `<a href="#${id}">${name}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>datum report: ${esc(page.source)}</title>
<style>${CSS}</style></head>
<body>
<header><h1>Dataset report</h1><p class="source"><code>${esc(page.source)}</code> · ${esc(page.format)}</p><nav>${nav}</nav></header>
<main>
${sections.join('\n')}
</main>
<footer>Written by <code>datum report</code>. Self-contained: no script, nothing loaded from the network.</footer>
</body></html>
`;
}

function summarySection(page: ReportPage): string {
  const { stats } = page;
  const total = Object.values(stats.annotations).reduce((a, b) => a + b, 0);
  const kinds = (Object.keys(stats.annotations) as (keyof typeof stats.annotations)[]).filter((k) => stats.annotations[k] > 0);
  const subsets = page.aggregate.subsets();
  const figure = (name: string, key: string, value: number) => `<div><dt>${name}</dt><dd data-stat="${key}">${num(value)}</dd></div>`;
  const rows = subsets.map((s) => {
    const k = page.aggregate.kindsPerSubset.get(s)!;
    const sum = kinds.reduce((a, kind) => a + k[kind], 0);
    return `<tr data-subset="${esc(s)}"><th>${esc(subsetName(s))}</th><td data-items>${num(stats.subsets[s] ?? 0)}</td>${kinds.map((kind) => `<td data-kind="${kind}">${num(k[kind])}</td>`).join('')}<td data-total>${num(sum)}</td></tr>`;
  });
  const totals = `<tr class="total" data-subset-total><th>all</th><td data-items>${num(stats.items)}</td>${kinds.map((kind) => `<td data-kind="${kind}">${num(stats.annotations[kind])}</td>`).join('')}<td data-total>${num(total)}</td></tr>`;
  const notes = [
    page.aggregate.normalizedItems ? `${num(page.aggregate.normalizedItems)} items have normalized coordinates (no image size known)` : '',
    page.aggregate.unknownSize ? `${num(page.aggregate.unknownSize)} items have no known image size` : '',
  ].filter(Boolean).map((n) => `<p class="note">${esc(n)}.</p>`).join('');
  return `<section id="summary"><h2>Summary</h2>
<dl class="figures">${figure('items', 'items', stats.items)}${figure('subsets', 'subsets', subsets.length)}${figure('labels', 'labels', stats.labels.length)}${figure('annotations', 'annotations', total)}</dl>
<table id="kinds"><caption>Items and annotations by kind, per subset</caption><thead><tr><th>subset</th><th>items</th>${kinds.map((k) => `<th>${k}</th>`).join('')}<th>annotations</th></tr></thead><tbody>${rows.join('')}${totals}</tbody></table>
${notes}</section>`;
}

function labelSection(agg: DatasetAggregate): string {
  const subsets = agg.subsets();
  const labels = [...new Set([...agg.categories.map((_, i) => i), ...agg.labelsPerSubset.keys()])]
    .map((label) => ({ label, name: agg.labelName(label), total: agg.labelTotal(label) }))
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name, 'en', { numeric: true }));
  const per = (label: number, s: string) => agg.labelsPerSubset.get(label)?.get(s) ?? 0;
  // a label under a parent is named with it: SOP's product classes are numbers under a super-class
  const chartName = (l: { label: number; name: string }) => { const parent = agg.categories[l.label]?.parent; return parent !== undefined ? `${parent}/${l.name}` : l.name; };
  const chart = barChart('Annotations per label, by subset', labels.slice(0, CHART_LABELS).filter((l) => l.total > 0).map((l) => ({ name: chartName(l), values: subsets.map((s) => per(l.label, s)) })), subsets.map(subsetName));
  const hasParents = agg.categories.some((c) => c.parent !== undefined);
  const parentCell = (label: number) => (hasParents ? `<td data-parent>${esc(agg.categories[label]?.parent ?? '')}</td>` : '');
  const rows = labels.slice(0, TABLE_LABELS).map((l) =>
    `<tr data-label="${esc(l.name)}"><th>${swatch(agg, l.label)}${esc(l.name)}</th>${parentCell(l.label)}${subsets.map((s) => `<td data-subset="${esc(s)}">${num(per(l.label, s))}</td>`).join('')}<td data-total>${num(l.total)}</td></tr>`);
  const more = labels.length > TABLE_LABELS
    ? `<p class="note">… and ${num(labels.length - TABLE_LABELS)} more labels with ${num(labels.slice(TABLE_LABELS).reduce((a, l) => a + l.total, 0))} annotations (not listed).</p>` : '';
  const missing = [...agg.missingLabels()].map(([s, names]) =>
    `<li data-missing-subset="${esc(s)}" data-count="${names.length}"><b>${esc(subsetName(s))}</b>: ${names.slice(0, MISSING_SHOWN).map(esc).join(', ')}${names.length > MISSING_SHOWN ? ` … and ${num(names.length - MISSING_SHOWN)} more` : ''}</li>`);
  return `<section id="labels"><h2>Annotations by label</h2>
<div class="chart-box">${chart}</div>
<table id="label-table"><caption>Annotations (all kinds) per label and subset, most annotated first</caption><thead><tr><th>label</th>${hasParents ? '<th>parent</th>' : ''}${subsets.map((s) => `<th>${esc(subsetName(s))}</th>`).join('')}<th>all</th></tr></thead><tbody>${rows.join('')}</tbody></table>${more}
${hasParents ? parentTable(agg, subsets) : ''}
<h3>Labels missing from a subset</h3>${missing.length ? `<ul id="missing-labels">${missing.join('')}</ul>` : '<p class="ok" id="missing-labels">Every label with annotations has some in every subset.</p>'}
</section>`;
}

/** Annotations of each parent category's children (SOP super-classes), per subset. */
function parentTable(agg: DatasetAggregate, subsets: readonly string[]): string {
  const parents = new Map<string, { children: number; perSubset: Map<string, number> }>();
  agg.categories.forEach((c, label) => {
    if (c.parent === undefined) return;
    let p = parents.get(c.parent);
    if (!p) parents.set(c.parent, (p = { children: 0, perSubset: new Map() }));
    p.children++;
    for (const [s, n] of agg.labelsPerSubset.get(label) ?? []) p.perSubset.set(s, (p.perSubset.get(s) ?? 0) + n);
  });
  const rows = [...parents].map(([name, p]) => ({ name, ...p, total: [...p.perSubset.values()].reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name, 'en', { numeric: true }));
  const body = rows.slice(0, TABLE_LABELS).map((p) => `<tr data-parent="${esc(p.name)}"><th>${esc(p.name)}</th><td data-children>${num(p.children)}</td>${subsets.map((s) => `<td data-subset="${esc(s)}">${num(p.perSubset.get(s) ?? 0)}</td>`).join('')}<td data-total>${num(p.total)}</td></tr>`).join('');
  return `<table id="parent-table"><caption>Annotations of each parent category's labels, per subset</caption><thead><tr><th>parent</th><th>labels</th>${subsets.map((s) => `<th>${esc(subsetName(s))}</th>`).join('')}<th>all</th></tr></thead><tbody>${body}</tbody></table>${rows.length > TABLE_LABELS ? `<p class="note">… and ${num(rows.length - TABLE_LABELS)} more parents.</p>` : ''}`;
}

function swatch(agg: DatasetAggregate, label: number): string {
  const c = agg.categories[label]?.color;
  return c ? `<span class="swatch" style="background:rgb(${c.join(',')})"></span>` : '';
}

function geometrySection(agg: DatasetAggregate): string {
  const objects = figure('Objects per image', histogram('Objects per image', agg.objectsPerImage.bins()));
  const charts = !agg.boxes ? [objects] : [
    figure('Box width (px)', histogram('Box width (px)', agg.boxWidth.bins())),
    figure('Box height (px)', histogram('Box height (px)', agg.boxHeight.bins())),
    figure('Box width / image width', histogram('Box width / image width', agg.boxWidthShare.bins())),
    figure('Box height / image height', histogram('Box height / image height', agg.boxHeightShare.bins())),
    figure('Aspect ratio (width / height)', histogram('Aspect ratio (width / height)', agg.aspect.bins())),
    objects,
    figure(`Box centres over the image (${HEAT_SIDE}×${HEAT_SIDE})`, heatmap('Box centres over the image', agg.heat, HEAT_SIDE, 180)),
  ];
  const probedTotal = [...agg.probed.values()].reduce((a, b) => a + b, 0);
  const sizes = [...new Set([...agg.sizes.keys(), ...agg.probed.keys()])]
    .map((name) => ({ name, values: [agg.sizes.get(name) ?? 0, agg.probed.get(name) ?? 0] }))
    .sort((a, b) => b.values[0] + b.values[1] - a.values[0] - a.values[1]);
  const sizeRows = sizes.slice(0, 12);
  const rest = sizes.slice(12);
  if (agg.otherSizes || rest.length) sizeRows.push({ name: 'other sizes', values: [agg.otherSizes + rest.reduce((a, r) => a + r.values[0], 0), rest.reduce((a, r) => a + r.values[1], 0)] });
  const withoutSize = agg.unknownSize + agg.normalizedItems;
  if (withoutSize) sizeRows.push({ name: 'no size given', values: [withoutSize, 0] });
  const series = probedTotal || agg.probeFailed ? ['in the annotations', 'read from the image file'] : ['items'];
  const probeNote = probedTotal || agg.probeFailed
    ? ` ${plural(withoutSize, 'item')} have no size in the annotations: the image files of the first ${num(probedTotal + agg.probeFailed)} were read${agg.probeFailed ? ` (${num(agg.probeFailed)} could not be)` : ''}.` : '';
  return `<section id="geometry"><h2>Boxes and images</h2>
<p class="note">${agg.boxes ? '' : 'No box, polygon, mask or ellipse: no box to measure. '}Boxes are one per object (shapes of one group and label are one object, as COCO's bbox and polygon): its bounding box, else the bounds of its polygon, mask or ellipse (${num(agg.boxes)}${agg.boxesWithoutSize ? `; ${num(agg.boxesWithoutSize)} on items without a known image size are left out of the shares and the heatmap` : ''}). Bins are fixed: powers of two in pixels, tenths of the image.</p>
<div class="grid">${charts.join('')}</div>
<h3>Image sizes</h3><div class="chart-box">${barChart('Image sizes (width x height)', sizeRows, series)}</div>
<p class="note" id="size-note" data-probed="${probedTotal}" data-probe-failed="${agg.probeFailed}">${plural(agg.sizes.size, 'distinct size')} in the annotations${agg.otherSizes ? ` (past ${num(agg.sizes.size)}, ${num(agg.otherSizes)} items are counted together)` : ''}.${probeNote}</p>
</section>`;
}

function figure(caption: string, chart: string): string {
  return `<figure>${chart}<figcaption>${esc(caption)}</figcaption></figure>`;
}

function findingsSection(page: ReportPage, thumbs: Set<string>): string {
  if (page.validationError) return `<section id="findings"><h2>Validation findings</h2><p class="note">${esc(page.validationError)}</p></section>`;
  const v = page.validation;
  if (!v) return '';
  const order = { error: 0, warning: 1, info: 2 };
  const groups = [...v.counts].sort((a, b) => order[a.severity] - order[b.severity] || b.count - a.count || a.code.localeCompare(b.code));
  const examples = new Map<string, Diagnostic[]>();
  for (const d of v.findings) {
    const key = `${d.code}\0${d.severity}`;
    if (!examples.has(key)) examples.set(key, []);
    examples.get(key)!.push(d);
  }
  const rows = groups.map((g) => {
    const shown = (examples.get(`${g.code}\0${g.severity}`) ?? []).slice(0, FINDING_EXAMPLES);
    const list = shown.map((d) => `<li>${esc(formatDiagnostic(d))}${d.item && thumbs.has(d.item) ? ` <a href="#${itemAnchor(d.item)}">preview</a>` : ''}</li>`).join('');
    return `<tr data-code="${esc(g.code)}" data-severity="${g.severity}"><td><span class="sev ${g.severity}">${g.severity}</span></td><th>${esc(g.code)}</th><td data-count>${num(g.count)}</td><td><ul>${list}</ul>${g.count > shown.length ? `<span class="note">… and ${num(g.count - shown.length)} more</span>` : ''}</td></tr>`;
  });
  const { errors, warnings, infos } = v.summary;
  return `<section id="findings"><h2>Validation findings</h2>
<p data-findings="${errors},${warnings},${infos}">${plural(errors, 'error')}, ${plural(warnings, 'warning')}, ${plural(infos, 'info')} (as <code>datum validate</code> reports them).</p>
${rows.length ? `<table id="findings-table"><thead><tr><th>severity</th><th>code</th><th>count</th><th>examples</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '<p class="ok">No findings.</p>'}
</section>`;
}

const itemAnchor = (item: string) => `item-${encodeURIComponent(item)}`;

function gallerySection(page: ReportPage): string {
  const seen = new Set<string>();
  const groups = page.gallery.filter((g) => g.thumbnails.length).map((g) => `<div class="label-group"><h3>${esc(g.label)}</h3><div class="thumbs">${g.thumbnails.map((t) => {
    const id = seen.has(t.item) ? '' : ` id="${itemAnchor(t.item)}"`;
    seen.add(t.item);
    return `<figure${id}><img src="${t.uri}" width="${t.width}" height="${t.height}" alt="${esc(t.item)}"><figcaption>${esc(t.item)}${t.placeholder ? ' (image missing)' : ''}</figcaption></figure>`;
  }).join('')}</div></div>`);
  return `<section id="gallery"><h2>Gallery</h2>${groups.length ? groups.join('') : `<p class="note">${esc(page.galleryNote ?? 'No item could be drawn.')}</p>`}</section>`;
}

function compareSection({ other, format, result: r, pictures = [] }: NonNullable<ReportPage['comparison']>): string {
  const differing = r.rows.filter((x) => x.source !== x.other).sort((a, b) => Math.abs(b.source - b.other) - Math.abs(a.source - a.other) || a.label.localeCompare(b.label));
  const dropped = differing.reduce((a, x) => a + Math.max(0, x.source - x.other), 0);
  const added = differing.reduce((a, x) => a + Math.max(0, x.other - x.source), 0);
  const headline = r.identical
    ? '<p class="ok" data-identical="true">No differences: every item, label, annotation count, box and attribute agrees.</p>'
    : `<p class="bad" data-identical="false">Differences found: ${plural(r.onlySourceCount, 'item')} only here, ${num(r.onlyOtherCount)} only there; ${plural(dropped, 'annotation')} fewer and ${num(added)} more there; ${plural(r.boxes.moved, 'box')} moved by more than a pixel; ${num(r.relabelled.reduce((a, x) => a + x.count, 0))} relabelled; ${num(r.attributes.changed)} with an attribute lost or changed${Object.keys(r.attributes.added).length ? `; attributes only there: ${names(Object.keys(r.attributes.added))}` : ''}${r.labels.onlySource.length + r.labels.onlyOther.length + r.labels.parentChanged.length ? '; the labels differ' : ''}.</p>`;
  const countRows = differing.slice(0, 200).map((x) =>
    `<tr data-subset="${esc(x.subset)}" data-label="${esc(x.label)}" data-kind="${x.kind}"><td>${esc(subsetName(x.subset))}</td><th>${esc(x.label)}</th><td>${x.kind}</td><td data-source>${num(x.source)}</td><td data-other>${num(x.other)}</td><td data-diff class="${x.other < x.source ? 'bad' : ''}">${x.other - x.source > 0 ? '+' : ''}${num(x.other - x.source)}</td></tr>`);
  const pairs = r.subsetPairs.map((p) => `<tr><td>${esc(subsetName(p.source))}</td><td>${esc(subsetName(p.other))}</td><td>${num(p.items)}</td></tr>`).join('');
  const moved = r.boxes.examples.map((m, k) => {
    const p = pictures[k];
    const picture = p ? `<img src="${p.uri}" width="${p.width}" height="${p.height}" alt="${esc(`${m.item}: ${m.label} here and there`)}">` : '';
    return `<tr data-moved-item="${esc(m.item)}"><td>${esc(m.item)}</td><td>${esc(m.label)}</td><td data-shift>${m.fractions ? `${m.shift.toFixed(4)} of the image` : m.shift.toFixed(2)}</td><td>${m.source.join(', ')}${m.rotation ? ` ↻${m.rotation[0]}°` : ''}</td><td>${m.other.join(', ')}${m.rotation ? ` ↻${m.rotation[1]}°` : ''}</td><td class="picture">${picture}</td></tr>`;
  }).join('');
  const relabelled = r.relabelled.map((x) => `<tr data-from="${esc(x.from)}" data-to="${esc(x.to)}"><td>${esc(x.from)}</td><td>${esc(x.to)}</td><td>${num(x.count)}</td></tr>`).join('');
  const labelNotes = [
    r.labels.onlySource.length ? `<li data-labels-only="source" data-count="${r.labels.onlySource.length}">only here: ${names(r.labels.onlySource)}</li>` : '',
    r.labels.onlyOther.length ? `<li data-labels-only="other" data-count="${r.labels.onlyOther.length}">only there: ${names(r.labels.onlyOther)}</li>` : '',
    r.labels.parentChanged.length ? `<li data-parent-changed="${r.labels.parentChanged.length}">another parent there: ${r.labels.parentChanged.slice(0, MISSING_SHOWN).map((p) => `${esc(p.name)} (${esc(p.source ?? 'none')} → ${esc(p.other ?? 'none')})`).join(', ')}${r.labels.parentChanged.length > MISSING_SHOWN ? ' …' : ''}</li>` : '',
  ].join('');
  const addedKeys = Object.entries(r.attributes.added).map(([k, n]) => `<code>${esc(k)}</code> (${num(n)})`).join(', ');
  const lost = Object.entries(r.attributes.lost).map(([k, n]) => `<li data-lost-attribute="${esc(k)}" data-count="${n}"><code>${esc(k)}</code> on ${num(n)} annotations</li>`).join('');
  const attrExamples = r.attributes.examples.map((e) => `<li>${esc(e.item)} ${esc(e.label)}: <code>${esc(JSON.stringify(e.source))}</code> → <code>${esc(JSON.stringify(e.other))}</code></li>`).join('');
  return `<section id="compare"><h2>Comparison with <code>${esc(other)}</code> (${esc(format)})</h2>
${headline}
<table id="compare-items"><tbody>
<tr><th>items here</th><td data-compare="source">${num(r.items.source)}</td></tr><tr><th>items there</th><td data-compare="other">${num(r.items.other)}</td></tr>
<tr><th>matched</th><td data-compare="matched">${num(r.items.matched)}</td></tr><tr><th>matched by id alone (subset renamed)</th><td data-compare="by-id">${num(r.items.byIdOnly)}</td></tr>
<tr><th>only here</th><td data-compare="only-source">${num(r.onlySourceCount)}</td></tr><tr><th>only there</th><td data-compare="only-other">${num(r.onlyOtherCount)}</td></tr>
</tbody></table>
${r.onlySource.length ? `<p class="note">Only here: ${r.onlySource.map(esc).join(', ')}${r.onlySourceCount > r.onlySource.length ? ' …' : ''}</p>` : ''}
${r.onlyOther.length ? `<p class="note">Only there: ${r.onlyOther.map(esc).join(', ')}${r.onlyOtherCount > r.onlyOther.length ? ' …' : ''}</p>` : ''}
${pairs ? `<h3>Subsets</h3><table id="compare-subsets"><thead><tr><th>here</th><th>there</th><th>items</th></tr></thead><tbody>${pairs}</tbody></table>` : ''}
<h3>Labels</h3>${labelNotes ? `<ul id="compare-labels">${labelNotes}</ul>` : '<p class="ok" id="compare-labels">The same labels, with the same parents.</p>'}
<h3>Annotation counts that differ</h3>
${countRows.length ? `<table id="compare-counts"><thead><tr><th>subset</th><th>label</th><th>kind</th><th>here</th><th>there</th><th>difference</th></tr></thead><tbody>${countRows.join('')}</tbody></table>${differing.length > 200 ? `<p class="note">… and ${num(differing.length - 200)} more rows.</p>` : ''}` : '<p class="ok" id="compare-counts">Every subset, label and kind has the same number of annotations.</p>'}
<h3>Boxes</h3><p data-boxes="${r.boxes.paired},${r.boxes.moved}">${num(r.boxes.paired)} boxes paired, ${num(r.boxes.moved)} moved by more than a pixel${r.boxes.maxShift ? ` (at most ${r.boxes.maxShift.toFixed(2)} px)` : ''}.${r.boxes.inFractions ? ` ${num(r.boxes.inFractions)} of them have no image size on either side: compared as fractions of the image, moved when an edge shifts by more than ${FRACTION_TOLERANCE} of it.` : ''}${r.boxes.unmeasured ? ` ${num(r.boxes.unmeasured)} not measured: normalized coordinates on one side, pixels on the other, and no image size on either to relate them.` : ''}</p>
${moved ? `<table id="compare-moved"><thead><tr><th>item</th><th>label</th><th>largest edge shift (px)</th><th>here x0, y0, x1, y1</th><th>there</th><th><span class="here">here</span> / <span class="there">there</span></th></tr></thead><tbody>${moved}</tbody></table>` : ''}
${relabelled ? `<h3>Relabelled boxes</h3><table id="compare-relabelled"><thead><tr><th>label here</th><th>label there</th><th>boxes</th></tr></thead><tbody>${relabelled}</tbody></table>` : ''}
<h3>Attributes</h3>${r.attributes.changed ? `<p data-attributes-changed="${r.attributes.changed}">${num(r.attributes.changed)} paired items or annotations lost or changed an attribute there.</p>${lost ? `<ul id="compare-lost">${lost}</ul>` : ''}<ul class="examples">${attrExamples}</ul>` : '<p class="ok" data-attributes-changed="0">No attribute of a paired item or annotation is lost or changed.</p>'}
${addedKeys ? `<p class="note">Attributes only there: ${addedKeys}.</p>` : ''}
</section>`;
}

function names(list: readonly string[]): string {
  return list.slice(0, MISSING_SHOWN).map(esc).join(', ') + (list.length > MISSING_SHOWN ? ` … and ${num(list.length - MISSING_SHOWN)} more` : '');
}

function calibrationSection({ file, manifest: m, found }: NonNullable<ReportPage['calibration']>): string {
  const detection = m.stratify === 'detection';
  const rows = detection ? m.labels : m.strata;
  const chart = barChart(`Share of ${detection ? 'annotations per label' : 'items per stratum'}: dataset pool vs calibration set`, rows.slice(0, CHART_STRATA).map((r) => ({ name: r.name, values: [r.share_dataset * 100, r.share_set * 100] })), ['dataset %', 'set %'], 'grouped');
  const table = rows.map((r) => `<tr data-stratum="${esc(r.name)}"><th>${esc(r.name)}</th><td data-dataset>${num(r.dataset)}</td><td data-chosen>${num(r.chosen)}</td><td>${pct(r.share_dataset)}</td><td>${pct(r.share_set)}</td></tr>`).join('');
  return `<section id="calibration"><h2>Calibration set</h2>
<p><code>${esc(file)}</code>: ${num(m.count)} of ${num(m.pool.items)} items chosen from ${m.pool.subsets.map((s) => esc(subsetName(s))).join(', ')}${m.pool.excluded.length ? ` (left out: ${m.pool.excluded.map((s) => esc(subsetName(s))).join(', ')})` : ''}, ${detection ? 'label coverage' : `stratified by ${esc(m.stratify)}`}, seed ${m.seed}.${m.max_deviation_of !== null ? ` Largest deviation ${m.max_deviation_pp.toFixed(2)} pp (${esc(m.max_deviation_of)}).` : ''}</p>
${found !== undefined ? `<p data-manifest-found="${found}">${num(found)} of ${num(m.items.length)} chosen items are in this dataset (by subset and id).</p>` : ''}
<div class="chart-box">${chart}</div>
<table id="strata"><thead><tr><th>${detection ? 'label' : 'stratum'}</th><th>${detection ? 'annotations' : 'items'} in pool</th><th>in set</th><th>share pool</th><th>share set</th></tr></thead><tbody>${table}</tbody></table>
</section>`;
}

const CSS = `
:root{--fg:#1d1d1f;--muted:#5f6368;--line:#dadce0;--bg:#fff;--soft:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 24px 8px;border-bottom:1px solid var(--line);background:var(--soft)}
h1{margin:0 0 4px;font-size:22px}
h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:18px 0 8px}
main{padding:0 24px 24px;max-width:1200px}
nav a{margin-right:2px;color:${PALETTE[0]}}
.source{margin:0 0 6px;color:var(--muted)}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
.figures{display:flex;gap:14px;margin:0 0 14px}
.figures div{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px}
dt{color:var(--muted);font-size:12px}dd{margin:0;font-size:22px;font-weight:600}
table{border-collapse:collapse;margin:6px 0 10px}
caption{text-align:left;color:var(--muted);font-size:12px;padding-bottom:4px}
th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:500}
tr.total{font-weight:600}
.note{color:var(--muted);font-size:12px}
.ok{color:#137333}.bad{color:#b3261e}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0}
figcaption{font-size:12px;color:var(--muted);text-align:center}
svg.chart{display:block;font:11px system-ui,sans-serif}
svg.chart text{fill:var(--fg)}svg.chart .tick,svg.chart .value{fill:var(--muted)}
svg.chart .axis,svg.chart .frame{stroke:var(--muted)}
.sev{font-size:11px;padding:1px 6px;border-radius:8px;color:#fff}
.sev.error{background:#b3261e}.sev.warning{background:#b06000}.sev.info{background:#5f6368}
#findings-table th,#findings-table td{text-align:left}#findings-table td[data-count]{text-align:right}
#findings-table td ul,ul.examples{margin:0;padding-left:16px;text-align:left}
#findings-table td:last-child{text-align:left;font-size:12px}
.label-group{margin-bottom:10px}
.thumbs{display:flex;flex-wrap:wrap;gap:8px}
.thumbs img{display:block;border:1px solid var(--line);background:var(--soft)}
.here{color:#0072B2;font-weight:600}.there{color:#D55E00;font-weight:600}
td.picture img{display:block;border:1px solid var(--line)}
footer{padding:12px 24px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
`;
