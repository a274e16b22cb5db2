/**
 * report.html rendered by a real browser: Debian's chromium, headless, driven over the DevTools
 * protocol on a pipe (--remote-debugging-pipe: fd 3 in, fd 4 out, NUL-terminated JSON messages), so
 * no dependency is needed. Skipped, saying why, when /usr/bin/chromium is absent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';
// @ts-expect-error: a plain .mjs script without types
import { makeSopFixture } from '../../scripts/make-sop-fixture.mjs';

const CHROMIUM = process.env.DATUM_CHROMIUM ?? '/usr/bin/chromium';
const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`browser test skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set DATUM_CHROMIUM)`);

const CVAT = path.join(ROOT, 'samples', 'cvat_dataset');

/** The smallest DevTools client: commands by id, events to listeners, over chromium's pipe. */
class DevTools {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((method: string, params: any, sessionId?: string) => void)[] = [];
  private buffer = '';

  constructor(private readonly input: Writable, output: Readable) {
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
        const message = JSON.parse(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined) {
          const w = this.waiting.get(message.id);
          this.waiting.delete(message.id);
          if (message.error) w?.reject(new Error(`${message.error.message} (${message.error.code})`)); else w?.resolve(message.result);
        } else {
          for (const l of this.listeners) l(message.method, message.params, message.sessionId);
        }
      }
    });
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.next++;
    this.input.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  on(listener: (method: string, params: any, sessionId?: string) => void): void {
    this.listeners.push(listener);
  }
}

describe.skipIf(!HAS_CHROMIUM)('report.html in headless chromium', () => {
  let work: string;
  let browser: ChildProcess;
  let devtools: DevTools;
  beforeAll(() => {
    work = tempDir('datum-report-browser-');
    browser = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--mute-audio',
      `--user-data-dir=${path.join(work, 'profile')}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    devtools = new DevTools(browser.stdio[3] as Writable, browser.stdio[4] as Readable);
  });
  afterAll(async () => {
    await devtools?.send('Browser.close').catch(() => {});
    if (browser && browser.exitCode === null) {
      const exited = new Promise((resolve) => browser.once('exit', resolve));
      setTimeout(() => browser.kill('SIGKILL'), 5000).unref();
      await exited;
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Opens `file` in a new tab at 1280 x 2000; what the page logged and requested is collected. */
  async function open(file: string): Promise<{ errors: string[]; requests: string[]; evaluate: (expression: string) => Promise<any>; sessionId: string }> {
    const { targetId } = await devtools.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await devtools.send('Target.attachToTarget', { targetId, flatten: true });
    const errors: string[] = [];
    const requests: string[] = [];
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => { loaded = resolve; });
    devtools.on((method, params, from) => {
      if (from !== sessionId) return;
      if (method === 'Runtime.exceptionThrown') errors.push(params.exceptionDetails.text + ' ' + (params.exceptionDetails.exception?.description ?? ''));
      if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'warning')) errors.push(params.args.map((a: any) => a.value ?? a.description).join(' '));
      if (method === 'Log.entryAdded' && params.entry.level === 'error') errors.push(params.entry.text);
      if (method === 'Network.requestWillBeSent' && !/^(data|file):/.test(params.request.url)) requests.push(params.request.url);
      if (method === 'Page.loadEventFired') loaded();
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await devtools.send(`${domain}.enable`, {}, sessionId);
    await devtools.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 2000, deviceScaleFactor: 1, mobile: false }, sessionId);
    await devtools.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
    await load;
    const evaluate = async (expression: string) => (await devtools.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)).result.value;
    return { errors, requests, evaluate, sessionId };
  }

  it('renders the CVAT sample\'s report and its comparison with no console error, no request, sized charts and a screenshot', { timeout: 90_000 }, async () => {
    const report = path.join(work, 'report.html');
    const r = await runCli('report', '-i', CVAT, '--compare', CVAT, '-o', report);
    expect(r.code, r.err).toBe(0);
    const { errors, requests, evaluate, sessionId } = await open(report);
    const charts: { kind: string; width: number; height: number; bars: number; section: string }[] = await evaluate(`[...document.querySelectorAll('svg.chart')].map((s) => {
      const box = s.getBoundingClientRect();
      return { kind: s.dataset.chart, width: box.width, height: box.height, bars: s.querySelectorAll('rect.bar, rect.cell').length, section: s.closest('section').id };
    })`);
    // labels + image sizes (bars), 6 histograms, the heatmap
    expect(charts.filter((c) => c.kind === 'histogram')).toHaveLength(6);
    expect(charts.filter((c) => c.kind === 'heatmap')).toHaveLength(1);
    expect(charts.filter((c) => c.kind === 'bars').map((c) => c.section)).toEqual(['labels', 'geometry']);
    for (const c of charts) {
      expect(c.width, c.kind).toBeGreaterThan(100);
      expect(c.height, c.kind).toBeGreaterThanOrEqual(c.kind === 'bars' ? 20 : 150); // a bar chart of one row is 26 px high
      expect(c.bars, `${c.kind} in ${c.section}`).toBeGreaterThan(0);
    }
    // the label chart's bars as drawn: car and person (4 each) equally long, traffic light (2) half
    const widths: Record<string, number> = await evaluate(`Object.fromEntries(['car', 'person', 'traffic light'].map((name) => {
      const bars = [...document.querySelectorAll('#labels svg.chart rect.bar')].filter((r) => r.querySelector('title').textContent.startsWith(name + ' ·'));
      return [name, bars.reduce((a, r) => a + r.getBoundingClientRect().width, 0)];
    }))`);
    expect(widths.car).toBeGreaterThan(100);
    expect(widths.person).toBeCloseTo(widths.car, 0);
    expect(widths['traffic light']).toBeCloseTo(widths.car / 2, 0);
    const page = await evaluate(`({ text: document.body.innerText, sections: [...document.querySelectorAll('main > section')].map((s) => s.id), width: document.documentElement.scrollWidth, broken: [...document.images].filter((i) => !i.complete || !i.naturalWidth).length, images: document.images.length })`);
    expect(page.sections).toEqual(['summary', 'labels', 'geometry', 'findings', 'gallery', 'compare']);
    expect(page.text).toContain('No differences');
    expect(page.broken).toBe(0);
    expect(page.width).toBeLessThanOrEqual(1280); // nothing wider than the window
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    const { data } = await devtools.send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width: 1280, height: 900, scale: 1 } }, sessionId);
    const shot = path.join(work, 'screenshot.png');
    fs.writeFileSync(shot, Buffer.from(data, 'base64'));
    const { width, height } = await sharp(shot).metadata();
    expect([width, height]).toEqual([1280, 900]);
    // not blank: the page's ink (text, bars) makes the channels vary
    const stats = await sharp(shot).stats();
    expect(Math.max(...stats.channels.map((c) => c.stdev))).toBeGreaterThan(20);
    const { data: pixels } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const dark = pixels.filter((_, k) => k % 3 === 0 && pixels[k] < 100 && pixels[k + 1] < 100).length;
    expect(dark).toBeGreaterThan(1000);
  });
  it('every chart\'s text fits inside its chart, legend entries whole and apart (an SOP fixture: sizes read from the files, a second series)', { timeout: 90_000 }, async () => {
    const { root } = await makeSopFixture(path.join(work, 'sop-legend'), { classesPerSuper: [3, 2], imagesPerClass: () => 2 });
    const report = path.join(work, 'sop-legend.html');
    expect((await runCli('report', '-i', root, '-o', report)).code).toBe(0);
    const { errors, evaluate } = await open(report);
    const charts: { title: string; outside: string[]; legend: { text: string; left: number; right: number; top: number }[] }[] = await evaluate(`[...document.querySelectorAll('svg.chart')].map((s) => {
      const frame = s.getBoundingClientRect();
      const outside = [...s.querySelectorAll('text')].filter((t) => { const b = t.getBoundingClientRect(); return b.left < frame.left - 0.5 || b.right > frame.right + 0.5 || b.top < frame.top - 0.5 || b.bottom > frame.bottom + 0.5; }).map((t) => t.textContent);
      const legend = [...s.querySelectorAll('text.legend')].map((t) => { const b = t.getBoundingClientRect(); return { text: t.textContent, left: b.left, right: b.right, top: b.top }; });
      return { title: s.querySelector('title').textContent, outside, legend };
    })`);
    for (const c of charts) {
      expect(c.outside, c.title).toEqual([]);
      // the next entry on a line starts after this one's text (its swatch is 14 px before its text)
      for (let k = 1; k < c.legend.length; k++) if (Math.abs(c.legend[k].top - c.legend[k - 1].top) < 1) expect(c.legend[k].left - 14, c.title).toBeGreaterThan(c.legend[k - 1].right);
    }
    const sizes = charts.find((c) => c.title.startsWith('Image sizes'))!;
    expect(sizes.legend.map((l) => l.text)).toEqual(['in the annotations', 'read from the image file']);
    expect(errors).toEqual([]);
  });

  it('renders a moved box\'s picture and a calibration set\'s chart', { timeout: 90_000 }, async () => {
    const moved = path.join(work, 'moved');
    fs.cpSync(CVAT, moved, { recursive: true });
    const xml = path.join(moved, 'annotations.xml');
    fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').replace('xtl="20.00" ytl="120.00" xbr="140.00"', 'xtl="23.00" ytl="120.00" xbr="143.00"'));
    const report = path.join(work, 'moved.html');
    const r = await runCli('report', '-i', CVAT, '--compare', moved, '-o', report);
    expect(r.code, r.err).toBe(0);
    const { errors, requests, evaluate } = await open(report);
    const pictures = await evaluate(`[...document.querySelectorAll('#compare-moved td.picture img')].map((i) => ({ complete: i.complete, natural: i.naturalWidth, shown: i.getBoundingClientRect().width }))`);
    const drawn = fs.readFileSync(report, 'utf8').includes('<td class="picture"><img');
    expect(pictures).toHaveLength(drawn ? 1 : 0);
    for (const p of pictures) expect(p).toEqual({ complete: true, natural: 240, shown: 240 });
    expect(await evaluate(`document.querySelector('[data-moved-item]').innerText`)).toMatch(/^Train\/street_001\s+car\s+3\.00/);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    // a calibration folder: the strata chart, two bars per stratum (share of the pool, of the set)
    const { root } = await makeSopFixture(path.join(work, 'sop'), { classesPerSuper: [3, 2], imagesPerClass: () => 3 });
    const calib = path.join(work, 'calib');
    expect((await runCli('calib', '-i', root, '-o', calib, '--size', '4', '-f', 'sop')).code).toBe(0);
    const strata = JSON.parse(fs.readFileSync(path.join(calib, 'manifest.json'), 'utf8')).strata.length;
    const calibReport = path.join(work, 'calib.html');
    expect((await runCli('report', '-i', calib, '-o', calibReport)).code).toBe(0);
    const page = await open(calibReport);
    const chart = await page.evaluate(`(() => { const s = document.querySelector('#calibration svg.chart'); const b = s.getBoundingClientRect(); return { width: b.width, height: b.height, bars: s.querySelectorAll('rect.bar').length }; })()`);
    expect(strata).toBeGreaterThan(1);
    expect(chart.bars).toBe(2 * strata);
    expect(chart.width).toBeGreaterThan(300);
    expect(chart.height).toBeGreaterThan(20 * strata);
    expect(page.errors).toEqual([]);
    expect(page.requests).toEqual([]);
  });
});
