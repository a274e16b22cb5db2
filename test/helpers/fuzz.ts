/**
 * A small seeded fuzzer for the importers: valid seed datasets per format, mutations of the kinds real
 * breakage takes (bytes, structure, paths, symlinks, nesting, entities), and a canary outside the dataset
 * whose secret must never show up in what datum prints or writes.
 */
import fs from 'node:fs';
import path from 'node:path';

/** A dataset as files: relative path -> content. */
export type Files = Map<string, string | Buffer>;

export const SECRET = 'CANARY_SECRET_7f3a9c';

/** mulberry32: a tiny deterministic PRNG, the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = ReturnType<typeof rng>;
const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, list: readonly T[]): T => list[int(r, list.length)];

/** Valid seed datasets, one per format; `jpeg` is a small real JPEG. */
export function seeds(jpeg: Buffer): Record<string, Files> {
  const cvatXml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>1</id>
      <name>fuzz</name>
      <size>2</size>
      <mode>annotation</mode>
      <labels>
        <label><name>car</name><attributes><attribute><name>color</name><mutable>False</mutable><input_type>select</input_type><default_value>red</default_value><values>red
blue</values></attribute><attribute><name>note</name><mutable>True</mutable><input_type>text</input_type><default_value></default_value><values></values></attribute></attributes></label>
        <label><name>person</name><attributes></attributes></label>
      </labels>
    </task>
  </meta>
  <image id="0" name="a.jpg" width="8" height="6">
    <box label="car" occluded="0" source="manual" xtl="1.00" ytl="1.00" xbr="4.00" ybr="3.00" z_order="0"><attribute name="color">red</attribute><attribute name="note">a b</attribute></box>
    <polygon label="person" occluded="0" source="manual" points="1.00,1.00;5.00,1.00;5.00,4.00" z_order="1"></polygon>
    <points label="person" occluded="0" source="manual" points="2.00,2.00;3.00,3.00" z_order="0"></points>
    <tag label="car" source="manual"></tag>
  </image>
  <image id="1" name="sub/b.jpg" width="8" height="6">
    <polyline label="car" occluded="1" source="manual" points="0.00,0.00;7.00,5.00" z_order="0"></polyline>
    <box label="person" occluded="0" source="manual" xtl="0.5" ytl="0.5" xbr="6" ybr="5" rotation="10" z_order="0"></box>
  </image>
</annotations>
`;
  const coco = {
    info: { description: 'fuzz' },
    images: [{ id: 1, file_name: 'a.jpg', width: 8, height: 6 }, { id: 2, file_name: 'b.jpg', width: 8, height: 6 }],
    categories: [{ id: 1, name: 'car', supercategory: 'vehicle' }, { id: 3, name: 'person', supercategory: '' }],
    annotations: [
      { id: 1, image_id: 1, category_id: 1, bbox: [1, 1, 3, 2], area: 6, iscrowd: 0, segmentation: [[1, 1, 4, 1, 4, 3, 1, 3]] },
      { id: 2, image_id: 1, category_id: 3, bbox: [0, 0, 2, 2], area: 4, iscrowd: 1, segmentation: { counts: [0, 2, 4, 2, 40], size: [6, 8] } },
      { id: 3, image_id: 2, category_id: 1, bbox: [2, 2, 2, 2], area: 4, iscrowd: 0, segmentation: [] },
    ],
  };
  const vocXml = (file: string, name: string) => `<annotation>
  <folder>VOC2012</folder>
  <filename>${file}</filename>
  <size><width>8</width><height>6</height><depth>3</depth></size>
  <segmented>0</segmented>
  <object>
    <name>${name}</name>
    <pose>Unspecified</pose>
    <truncated>0</truncated>
    <difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>4</xmax><ymax>3</ymax></bndbox>
    <part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
  </object>
</annotation>
`;
  return {
    cvat: new Map<string, string | Buffer>([
      ['annotations.xml', cvatXml],
      ['images/a.jpg', jpeg],
      ['images/sub/b.jpg', jpeg],
    ]),
    coco: new Map<string, string | Buffer>([
      ['annotations/instances_train.json', JSON.stringify(coco, null, 1)],
      ['images/train/a.jpg', jpeg],
      ['images/train/b.jpg', jpeg],
    ]),
    voc: new Map<string, string | Buffer>([
      ['Annotations/a.xml', vocXml('a.jpg', 'car')],
      ['Annotations/b.xml', vocXml('b.jpg', 'person')],
      ['ImageSets/Main/train.txt', 'a\nb\n'],
      ['ImageSets/Main/car_train.txt', 'a 1\nb -1\n'],
      ['labelmap.txt', '# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:128,0,0:head:\nperson:0,128,0::\n'],
      ['JPEGImages/a.jpg', jpeg],
      ['JPEGImages/b.jpg', jpeg],
    ]),
    yolo: new Map<string, string | Buffer>([
      ['obj.data', 'classes = 2\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n'],
      ['obj.names', 'car\nperson\n'],
      ['train.txt', 'data/obj_train_data/a.jpg\ndata/obj_train_data/b.jpg\n'],
      ['obj_train_data/a.jpg', jpeg],
      ['obj_train_data/a.txt', '0 0.5 0.5 0.25 0.25\n1 0.3 0.3 0.1 0.2\n'],
      ['obj_train_data/b.jpg', jpeg],
      ['obj_train_data/b.txt', ''],
    ]),
    yolo_ultralytics: new Map<string, string | Buffer>([
      ['data.yaml', 'names:\n  0: car\n  1: person\ntrain: images/train\nval: val.txt\n'],
      ['val.txt', './images/val/b.jpg\n'],
      ['images/train/a.jpg', jpeg],
      ['labels/train/a.txt', '0 0.5 0.5 0.25 0.25\n1 0.3 0.3 0.1 0.2\n'],
      ['images/val/b.jpg', jpeg],
      ['labels/val/b.txt', '1 0.4 0.4 0.2 0.2\n'],
    ]),
  };
}

/** What a mutation does to a dataset folder after its files are written (symlinks, folders). */
export type PostStep = (dir: string, canaryDir: string) => void;
export interface Variant { name: string; files: Files; post?: PostStep }

const textFiles = (files: Files) => [...files.keys()].filter((k) => typeof files.get(k) === 'string');
const NUMBER = /-?\d+(\.\d+)?/g;
const BAD_NUMBERS = ['NaN', '1e309', '-1', '1e12', '', '0x10', '-0', 'Infinity', '9'.repeat(400), '1,5'];
const BAD_STRINGS = ['../canary.txt', '../../canary.txt', '../../../canary.txt', '/etc/passwd', 'C:\\x\\y.jpg', 'a\u0000b',
  'x'.repeat(300), 'ü/ñ/日本.jpg', '', ' ', 'a/../../b', '\\\\server\\share\\x.jpg', 'no', 'null', '<>&"\''];

/** Replaces the n-th match of `re` in `text`. */
function replaceNth(text: string, re: RegExp, n: number, by: (m: string) => string): string {
  let i = 0;
  return text.replace(re, (m) => (i++ === n ? by(m) : m));
}

function nested(kind: 'xml' | 'json' | 'yaml', depth: number): string {
  if (kind === 'xml') return '<a>'.repeat(depth) + '</a>'.repeat(depth);
  if (kind === 'json') return '['.repeat(depth) + ']'.repeat(depth);
  return Array.from({ length: depth }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n';
}

const DOCTYPES = [
  `<!DOCTYPE annotations [<!ENTITY a "${'x'.repeat(10)}"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>`,
  '<!DOCTYPE annotation SYSTEM "../canary.txt">',
  '<!DOCTYPE annotations [<!ENTITY ext SYSTEM "file://CANARY">]>',
  '<!DOCTYPE annotation [<!ENTITY ext SYSTEM "../canary.txt">]>',
];

/** Symlink targets: a canary file of the same extension, or the canary folder itself. */
function linkToCanary(rel: string, asFolder: boolean): PostStep {
  return (dir, canaryDir) => {
    const at = path.join(dir, rel);
    fs.rmSync(at, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(at), { recursive: true });
    const ext = path.extname(rel) || '.txt';
    fs.symlinkSync(asFolder ? canaryDir : path.join(canaryDir, `canary${ext}`), at);
  };
}

/** One to three mutations of `base`, chosen by `r`; the name says what was done. */
export function mutate(base: Files, format: string, r: Random): Variant {
  let variant = mutateOnce(base, format, r);
  for (let more = int(r, 3); more > 0 && !variant.post; more--) {
    const next = mutateOnce(variant.files, format, r);
    variant = { name: `${variant.name} + ${next.name}`, files: next.files, post: next.post };
  }
  return variant;
}

function mutateOnce(base: Files, format: string, r: Random): Variant {
  const files: Files = new Map(base);
  const texts = textFiles(files);
  const file = pick(r, texts);
  const text = files.get(file) as string;
  const all = [...files.keys()];
  const folders = [...new Set(all.map((k) => path.posix.dirname(k)).filter((d) => d !== '.'))];
  const kind = int(r, 16);
  switch (kind) {
    case 0: { const at = int(r, text.length + 1); files.set(file, text.slice(0, at)); return { name: `truncate ${file} at ${at}`, files }; }
    case 1: {
      const at = int(r, Math.max(1, text.length)); const ch = String.fromCharCode(int(r, 128));
      files.set(file, text.slice(0, at) + ch + text.slice(at + 1)); return { name: `set ${file}[${at}] = ${JSON.stringify(ch)}`, files };
    }
    case 2: {
      const at = int(r, text.length + 1); const junk = pick(r, ['<', '>', '"', '{', '}', ']', ',', '\n', '\u0000', '\uFFFF', '&', '&amp', ':', '- ', '\t']);
      files.set(file, text.slice(0, at) + junk + text.slice(at)); return { name: `insert ${JSON.stringify(junk)} into ${file} at ${at}`, files };
    }
    case 3: {
      const a = int(r, text.length); const b = Math.min(text.length, a + 1 + int(r, 200));
      files.set(file, text.slice(0, b) + text.slice(a, b) + text.slice(b)); return { name: `duplicate ${file}[${a}..${b}]`, files };
    }
    case 4: {
      const lines = text.split('\n'); const n = int(r, lines.length);
      if (r() < 0.5) lines.splice(n, 1); else lines.splice(n, 0, lines[n]);
      files.set(file, lines.join('\n')); return { name: `delete or repeat line ${n + 1} of ${file}`, files };
    }
    case 5: {
      const count = (text.match(NUMBER) ?? []).length; const n = int(r, Math.max(1, count)); const by = pick(r, BAD_NUMBERS);
      files.set(file, replaceNth(text, NUMBER, n, () => by)); return { name: `number #${n} of ${file} -> ${JSON.stringify(by.slice(0, 20))}`, files };
    }
    case 6: {
      const re = /"([^"\n]*)"|>([^<>\n]+)</g; const count = (text.match(re) ?? []).length; const n = int(r, Math.max(1, count));
      const by = pick(r, BAD_STRINGS);
      files.set(file, replaceNth(text, re, n, (m) => (m.startsWith('"') ? JSON.stringify(by).replace(/\\u0000/g, '\\u0000') : `>${by.replace(/[<>&]/g, '')}<`)));
      return { name: `string #${n} of ${file} -> ${JSON.stringify(by.slice(0, 20))}`, files };
    }
    case 7: {
      // a name inside a list or label text replaced by a path outside the dataset
      const lines = text.split('\n'); const n = int(r, lines.length); const by = pick(r, BAD_STRINGS.slice(0, 6));
      lines[n] = lines[n].includes(' ') || lines[n].includes('=') ? lines[n].replace(/[^\s=]+$/, by) : by;
      files.set(file, lines.join('\n')); return { name: `line ${n + 1} of ${file} names ${JSON.stringify(by)}`, files };
    }
    case 8: {
      const ext = path.extname(file);
      const kindOf = ext === '.xml' ? 'xml' : ext === '.json' ? 'json' : ext === '.yaml' ? 'yaml' : null;
      if (!kindOf) { files.set(file, '\n'.repeat(int(r, 3))); return { name: `blank ${file}`, files }; }
      const depth = pick(r, [200, 5_000, 100_000]);
      if (kindOf === 'json') files.set(file, text.replace(/"annotations":\s*\[/, `"annotations": [${nested('json', depth)},`));
      else if (kindOf === 'xml') files.set(file, text.replace(/(<\/(annotations|annotation)>)\s*$/, `${nested('xml', depth)}$1`));
      else files.set(file, text + 'deep:\n' + nested('yaml', Math.min(depth, 5_000)).replace(/^/gm, '  '));
      return { name: `nest ${depth} deep in ${file}`, files };
    }
    case 9: {
      const xml = texts.filter((k) => k.endsWith('.xml'));
      if (!xml.length) break;
      const target = pick(r, xml); const doctype = pick(r, DOCTYPES);
      const body = (files.get(target) as string).replace(/^<\?xml[^>]*\?>\s*/, '');
      const ref = doctype.includes('ENTITY f') ? '&f;' : doctype.includes('ENTITY ext') ? '&ext;' : '';
      const withRef = ref ? body.replace(/<name>([^<]*)<\/name>/, `<name>$1${ref}</name>`) : body;
      files.set(target, `<?xml version="1.0"?>\n${doctype}\n${withRef}`);
      return { name: `DOCTYPE ${doctype.slice(10, 50)}... in ${target}`, files };
    }
    case 10: {
      const yaml = texts.filter((k) => k.endsWith('.yaml'));
      if (!yaml.length) break;
      const target = yaml[0]; const t = files.get(target) as string;
      const extra = pick(r, ['train: images/val\n', 'names: [a, b, c]\n', 'path: ../\n', 'path: /\n', 'names: &x [*x]\n',
        'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
        'kpt_shape: [1000000000, 3]\n', 'names: {0: no, 1: on}\n', 'val: ../../canary.txt\n', 'train: /etc\n']);
      files.set(target, t + extra); return { name: `append ${JSON.stringify(extra.slice(0, 40))} to ${target}`, files };
    }
    case 11: { files.set(file, ''); return { name: `empty ${file}`, files }; }
    case 12: {
      // a file where a folder is expected, or the reverse
      if (r() < 0.5 && folders.length) {
        const folder = pick(r, folders);
        for (const k of all) if (k.startsWith(folder + '/')) files.delete(k);
        files.set(folder, 'not a folder\n'); return { name: `file instead of folder ${folder}`, files };
      }
      files.delete(file);
      return { name: `folder instead of file ${file}`, files, post: (dir) => { fs.mkdirSync(path.join(dir, file), { recursive: true }); } };
    }
    case 13: {
      const target = pick(r, all);
      return { name: `symlink ${target} -> canary file`, files, post: linkToCanary(target, false) };
    }
    case 14: {
      if (!folders.length) break;
      const folder = pick(r, folders);
      for (const k of all) if (k.startsWith(folder + '/')) files.delete(k);
      return { name: `symlink folder ${folder} -> canary folder`, files, post: linkToCanary(folder, true) };
    }
    case 15: {
      const many = Array.from({ length: 3 }, () => pick(r, BAD_STRINGS.slice(0, 10)));
      files.set(pick(r, ['x.txt', 'a/../../x', 'README.md', 'labels/train/zz.txt', 'Annotations/@.xml']).replace('a/../../x', 'x2'), many.join('\n'));
      return { name: `add a stray file with ${JSON.stringify(many)}`, files };
    }
  }
  files.set(file, text + '\n' + pick(r, BAD_STRINGS));
  return { name: `append a bad string to ${file} (${format})`, files };
}

/** Writes `files` under `dir`. */
export function writeFiles(dir: string, files: Files): void {
  for (const [rel, content] of files) {
    const at = path.join(dir, rel);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.writeFileSync(at, content);
  }
}

/**
 * The canary folder outside the dataset: one file per extension an importer may read, each holding the
 * secret where that format would carry a name into output or warnings.
 */
export function writeCanary(canaryDir: string): void {
  fs.mkdirSync(canaryDir, { recursive: true });
  const s = SECRET;
  const content: Record<string, string> = {
    '.txt': `data/${s}.jpg\n./images/${s}.jpg\n0 0.5 0.5 0.1 0.1 ${s}\n${s} 0.5 0.5 0.1 0.1\n${s}\n`,
    '.xml': `<annotations><version>1.1</version><meta><task><labels><label><name>${s}</name></label></labels></task></meta><image id="0" name="${s}.jpg" width="4" height="4"><tag label="${s}"/></image></annotations>`
      + `<annotation><filename>${s}.jpg</filename><object><name>${s}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
    '.json': JSON.stringify({ images: [{ id: 1, file_name: `${s}.jpg`, width: 4, height: 4 }], categories: [{ id: 1, name: s }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 1, 1] }] }),
    '.yaml': `names:\n  0: ${s}\ntrain: images\n`,
    '.data': `classes = 1\ntrain = ${s}.txt\nnames = ${s}.names\n`,
    '.names': `${s}\n`,
    '.jpg': `${s} not a jpeg`,
    '.md': `${s}\n`,
  };
  for (const [ext, text] of Object.entries(content)) fs.writeFileSync(path.join(canaryDir, `canary${ext}`), text);
  for (const name of ['a.xml', 'a.txt', 'train.txt', 'b.txt', 'annotations.xml', 'instances_train.json', 'a.jpg']) {
    fs.copyFileSync(path.join(canaryDir, `canary${path.extname(name)}`), path.join(canaryDir, name));
  }
}

/** Every file under `dir` whose bytes contain the secret, and every symlink (output must hold none). */
export function filesWithSecret(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) found.push(`${p} (a symlink)`);
      else if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(SECRET)) found.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}
