// The HTML reports of `ptjs run`, `ptjs eval` and `ptjs compare` (--report), opened in Debian's
// chromium (headless, playwright-core): they must load from the file alone, log no errors and
// draw their charts and thumbnails. Same environment as page.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { browserMissing, launchChromium } from './chromium.mjs';
import { DIGITS_MODEL, PTJS_BIN, SOURCE_DIR } from '../node/helpers.mjs';

const IMAGES = path.join(SOURCE_DIR, 'configs/digits/images');
const why = browserMissing();

const ptjs = (...args) => spawnSync(PTJS_BIN, args, { encoding: 'utf8' });

describe('HTML reports', { skip: why ?? false }, () => {
  let browser;
  let dir;
  before(async () => {
    browser = await launchChromium();
    dir = mkdtempSync(path.join(tmpdir(), 'ptjs-report-'));
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Opens a report from its file; returns what a person would see, and what went wrong.
  async function open(file, name) {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const problems = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const started = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const loadMs = performance.now() - started;
    const charts = await page.$$eval('svg[data-chart]', (svgs) => svgs.map((s) => ({
      name: s.dataset.chart, marks: s.querySelectorAll('rect').length, label: s.getAttribute('aria-label'),
    })));
    const thumbnails = await page.$$eval('.thumbs img', (imgs) => imgs.map((i) => i.naturalWidth));
    console.log(`# ${name}: ${statSync(file).size} bytes, loaded in ${loadMs.toFixed(0)} ms`);
    if (process.env.PTJS_SCREENSHOT_DIR) {
      mkdirSync(process.env.PTJS_SCREENSHOT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(process.env.PTJS_SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    }
    await page.close();
    const elsewhere = requests.filter((u) => u !== `file://${file}` && !u.startsWith('data:'));
    return { charts, thumbnails, problems, elsewhere };
  }

  test('ptjs run --report: throughput over time, the time split, scores, the slowest inputs, errors', async () => {
    // The digits of two classes and a file that is no image.
    const input = path.join(dir, 'run-input');
    mkdirSync(input);
    for (const label of ['three', 'seven']) cpSync(path.join(IMAGES, label), path.join(input, label), { recursive: true });
    writeFileSync(path.join(input, 'seven', 'broken.png'), 'not an image');
    const report = path.join(dir, 'run.html');
    const r = ptjs('run', '--model', DIGITS_MODEL, '--input', input, '--quiet', '--output', path.join(dir, 'run.jsonl'),
      '--report', report);
    assert.equal(r.status, 1, r.stderr);  // one input failed
    const seen = await open(report, 'report-run');
    assert.deepEqual(seen.problems, []);
    assert.deepEqual(seen.elsewhere, []);
    assert.deepEqual(seen.charts.map((c) => c.name), ['throughput', 'time-split', 'scores']);
    for (const c of seen.charts) assert.ok(c.marks > 0, `chart ${c.name} is empty`);
    assert.equal(seen.thumbnails.length, 12);
    assert.ok(seen.thumbnails.every((w) => w > 0));
    const html = readFileSync(report, 'utf8');
    assert.match(html, /broken\.png<\/td><td>cannot decode image/);
  });

  test('ptjs eval --report: score histogram, per-class bars, confusion heat map, misread digits', async () => {
    const records = path.join(dir, 'digits.jsonl');
    assert.equal(ptjs('run', '--model', DIGITS_MODEL, '--input', IMAGES, '--quiet', '--output', records).status, 0);
    const report = path.join(dir, 'eval.html');
    const r = ptjs('eval', records, '--input', IMAGES, '--report', report);
    assert.equal(r.status, 0, r.stderr);
    const [, right, all] = /top-1 [\d.]+ \((\d+)\/(\d+)\)/.exec(r.stdout);
    const misread = Number(all) - Number(right);
    const seen = await open(report, 'report-eval');
    assert.deepEqual(seen.problems, []);
    assert.deepEqual(seen.elsewhere, [], 'the report loaded something besides itself');
    assert.deepEqual(seen.charts.map((c) => c.name), ['scores', 'per-class', 'confusion']);
    for (const c of seen.charts) assert.ok(c.marks > 0 && c.label, `chart ${c.name} is empty`);
    const confusion = seen.charts.find((c) => c.name === 'confusion');
    assert.equal(confusion.marks, 10 * 11, 'a 10 x (10 + other) heat map');
    assert.equal(seen.thumbnails.length, misread);
    assert.ok(misread > 0 && seen.thumbnails.every((w) => w > 0), `thumbnails ${seen.thumbnails}`);
  });

  test('ptjs compare --report: the score differences and the flipped inputs with their images', async () => {
    const a = path.join(dir, 'a.jsonl');
    assert.equal(ptjs('run', '--model', DIGITS_MODEL, '--input', path.join(IMAGES, 'three'), '--quiet', '--output', a).status, 0);
    // B: the same records with the first two classes of every fifth input swapped.
    const lines = readFileSync(a, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const b = path.join(dir, 'b.jsonl');
    writeFileSync(b, lines.map((rec, i) => JSON.stringify(i % 5 ? rec
      : { ...rec, predictions: [rec.predictions[1], rec.predictions[0], ...rec.predictions.slice(2)] })).join('\n') + '\n');
    const report = path.join(dir, 'compare.html');
    const r = ptjs('compare', a, b, '--report', report);
    assert.equal(r.status, 0, r.stderr);
    const seen = await open(report, 'report-compare');
    assert.deepEqual(seen.problems, []);
    assert.deepEqual(seen.elsewhere, []);
    assert.deepEqual(seen.charts.map((c) => c.name), ['score-diffs']);
    assert.ok(seen.charts[0].marks > 0);
    assert.equal(seen.thumbnails.length, Math.ceil(lines.length / 5));
    assert.ok(seen.thumbnails.every((w) => w > 0));
  });
});
