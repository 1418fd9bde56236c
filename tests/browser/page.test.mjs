// The page at GET / of `ptjs serve`, in a real browser: Debian's chromium, headless, driven by
// playwright-core (npm, tests/browser/package.json). Real servers on loopback, real digits
// PNGs; the page must show torchvision's answer, talk to its own origin only, and log no errors.
// Environment: chromium.mjs's, and
//   PTJS_SCREENSHOT_DIR      write page-light.png and page-dark.png there (the README's)
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { browserMissing, launchChromium } from './chromium.mjs';
import { DIGITS_MODEL, SOURCE_DIR, linear, startServer, tinyModel } from '../node/helpers.mjs';

const KEY = 'browser-test-key';
const why = browserMissing();

// What torchvision says about a digits PNG (configs/digits/expected.csv): {file, label, score}.
function reference(relative) {
  const rows = readFileSync(path.join(SOURCE_DIR, 'configs/digits/expected.csv'), 'utf8').trim().split('\n');
  const row = rows.find((r) => r.startsWith(`${relative},`));
  const [, , label, score] = row.split(',');
  return { file: path.join(SOURCE_DIR, 'configs/digits', relative), label, score: Number(score) };
}

describe('the page at GET /', { skip: why ?? false }, () => {
  let browser;
  let open;   // digits and the tensor model, no key
  let keyed;  // digits with --api-key and --cors '*'
  const tiny = tinyModel();

  before(async () => {
    [browser, open, keyed] = await Promise.all([
      launchChromium(),
      startServer(['--model', DIGITS_MODEL, '--model', `tiny=${tiny.model}`]),
      startServer(['--model', DIGITS_MODEL, '--api-key', KEY, '--cors', '*']),
    ]);
  });
  after(async () => {
    await browser?.close();
    await open?.stop();
    await keyed?.stop();
  });

  // A fresh tab that records what the page logs and which URLs it asks for.
  async function newTab(options = {}) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const problems = [];
    const requests = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r));
    return { context, page, problems, requests };
  }

  async function topClass(page) {
    const first = page.locator('#topk li').first();
    await first.locator('.score').waitFor();
    return { label: await first.locator('.label').textContent(), score: Number(await first.locator('.score').textContent()) };
  }

  test('a digits PNG: the right label and score, the time split, the call as code, metrics', async () => {
    const { context, page, problems, requests } = await newTab();
    const started = performance.now();
    await page.goto(`${open.url}/`);
    await page.locator('#try-image').waitFor();
    await page.waitForLoadState('networkidle');
    // Bytes over the wire: each response's headers and body (ptjs sends no compression).
    let weight = 0;
    for (const r of requests) {
      const response = await r.response();
      weight += (await r.sizes()).responseHeadersSize + (response ? (await response.body()).length : 0);
    }
    const firstLoad = requests.length;
    assert.equal(await page.locator('#key-form').isVisible(), false, 'a server without a key asks for one');
    assert.equal(await page.locator('#samples').isVisible(), true);

    const eight = reference('images/eight/0028.png');
    await page.setInputFiles('#file', eight.file);
    const top = await topClass(page);
    const firstPrediction = performance.now() - started;
    assert.equal(top.label, eight.label);
    assert.ok(Math.abs(top.score - eight.score) < 1e-4, `score ${top.score}, torchvision ${eight.score}`);
    console.log(`# page weight, first load: ${weight} bytes over the wire in ${firstLoad} requests`);
    console.log(`# time to first prediction (load, pick, answer): ${firstPrediction.toFixed(0)} ms`);

    // The time split from Server-Timing: four stages and the total.
    const legend = await page.locator('#timing-legend li').allTextContents();
    assert.equal(legend.length, 6, legend.join(' | '));
    for (const [i, stage] of ['read', 'decode', 'preprocess', 'queue', 'forward', 'total'].entries())
      assert.match(legend[i], new RegExp(`^${stage} \\d+\\.\\d\\d ms$`));
    assert.match(await page.locator('#timing-bar').getAttribute('aria-label'), /forward \d/);

    // The same call as curl, fetch and ptjs-client; arrow keys move between the tabs.
    assert.match(await page.locator('#code-text').textContent(), /curl -X POST http:\/\/127\.0\.0\.1:\d+\/predictions\/digits[\s\S]*--data-binary @0028\.png/);
    await page.locator('#tab-curl').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#tab-fetch').getAttribute('aria-selected'), 'true');
    assert.match(await page.locator('#code-text').textContent(), /await fetch\('http:\/\/127\.0\.0\.1:\d+\/predictions\/digits'/);
    await page.keyboard.press('ArrowRight');
    assert.match(await page.locator('#code-text').textContent(), /client\.predict\('digits', '0028\.png'\)/);

    // Model details and live metrics.
    assert.match(await page.locator('#pipeline').textContent(), /Resize: \{size: 32/);
    assert.equal(await page.locator('#labels li').count(), 10);
    await page.waitForFunction(() => /requests\s*[1-9]/.test(document.querySelector('#metrics')?.innerText ?? ''));

    // A sample digit, by keyboard: focus its button and press Enter.
    await page.getByRole('button', { name: 'sample: a handwritten seven' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#topk li .label')?.textContent === 'seven');

    // Dropped and pasted files take the same path as a picked one.
    for (const [how, expected] of [['drop', 'zero'], ['paste', 'nine']]) {
      await page.evaluate(async ({ how, file }) => {
        const blob = await (await fetch(`/ui/${file}`)).blob();
        const data = new DataTransfer();
        data.items.add(new File([blob], file, { type: 'image/png' }));
        if (how === 'drop') {
          document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        } else {
          document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
        }
      }, { how, file: `digit-${expected === 'zero' ? 0 : 9}.png` });
      await page.waitForFunction((label) => document.querySelector('#topk li .label')?.textContent === label, expected);
    }

    // Every control has a name a screen reader can say.
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, textarea, [role="tab"]')]
      .filter((e) => !(e.labels?.length || e.getAttribute('aria-label') || e.textContent.trim()))
      .map((e) => e.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);

    const elsewhere = requests.map((r) => r.url()).filter((u) => !u.startsWith(`${open.url}/`) && !u.startsWith(`blob:${open.url}/`));
    assert.deepEqual(elsewhere, [], 'the page asked for something outside its origin');
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('a tensor model: the v2 form and its outputs', async () => {
    const { context, page, problems } = await newTab();
    await page.goto(`${open.url}/`);
    await page.locator('button[data-model="tiny"]').click();
    await page.locator('#try-tensor').waitFor();
    assert.equal(await page.locator('#samples').isVisible(), false, 'samples shown for a tensor model');
    const form = JSON.parse(await page.locator('#tensor-request').inputValue());
    assert.deepEqual(form.inputs.map(({ name, shape, datatype }) => ({ name, shape, datatype })),
      [{ name: 'x', shape: [1, 4], datatype: 'FP32' }]);
    const x = [1, 2, 3, 4];
    await page.locator('#tensor-request').fill(JSON.stringify({ inputs: [{ ...form.inputs[0], data: x }] }));
    await page.locator('#tensor-run').click();
    await page.waitForFunction(() => document.querySelector('#tensor-output').textContent.includes('Server-Timing'));
    const [answer] = (await page.locator('#tensor-output').textContent()).split('\n\nServer-Timing');
    const out = JSON.parse(answer).outputs[0];
    const want = linear(Float32Array.from(x), tiny);
    assert.deepEqual(out.shape, [1, 3]);
    out.data.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-4, `output ${i}: ${v} vs ${want[i]}`));
    await page.locator('#tab-client').click();
    assert.match(await page.locator('#code-text').textContent(), /client\.infer\('tiny', \[/);
    assert.equal(await page.locator('#try-image').isHidden(), true);
    assert.deepEqual(problems, []);
    await context.close();
  });

  test('with --api-key: asks once, keeps the key for the tab only, never prints it', async () => {
    const { context, page, problems, requests } = await newTab();
    await page.goto(`${keyed.url}/`);
    await page.locator('#key').waitFor();
    assert.equal(await page.locator('#model').isVisible(), false);
    assert.deepEqual(requests.map((r) => new URL(r.url()).pathname).filter((p) => p.startsWith('/v2')), [],
      'the page called the API before it had a key');
    await page.locator('#key').fill(KEY);
    await page.locator('#key').press('Enter');
    await page.locator('#try-image').waitFor();
    const three = reference('images/three/0045.png');
    await page.setInputFiles('#file', three.file);
    assert.equal((await topClass(page)).label, three.label);
    const curl = await page.locator('#code-text').textContent();
    assert.match(curl, /Authorization: Bearer \$PTJS_API_KEY/);
    assert.ok(!(await page.content()).includes(KEY), 'the key is shown on the page');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ptjs-api-key')), KEY);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(problems, []);

    // Another tab (a new browsing context) asks again.
    const other = await newTab();
    await other.page.goto(`${keyed.url}/`);
    await other.page.locator('#key').waitFor();
    // A wrong key: the server says 401 (which the browser logs), the page says so.
    await other.page.locator('#key').fill('wrong');
    await other.page.locator('#key').press('Enter');
    await other.page.locator('#key-error').filter({ hasText: 'refused' }).waitFor();
    assert.ok(other.problems.every((p) => /401/.test(p)), other.problems.join('\n'));
    await other.context.close();
    await context.close();
  });

  test('with --cors: a page of another origin calls the API and reads Server-Timing', async () => {
    // The other origin: a plain page from a Node server on another loopback port.
    const site = http.createServer((_, res) => res.end('<!doctype html><title>app</title>'));
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    const { context, page, problems } = await newTab();
    try {
      await page.goto(`http://127.0.0.1:${site.address().port}/`);
      const png = readFileSync(reference('images/nine/0037.png').file).toString('base64');
      const answer = await page.evaluate(async ({ url, key, png }) => {
        const body = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
        const res = await fetch(`${url}/predictions/digits`, {
          method: 'POST', body, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'image/png' },
        });
        return { status: res.status, timing: res.headers.get('server-timing'), record: await res.json() };
      }, { url: keyed.url, key: KEY, png });
      assert.equal(answer.status, 200);
      assert.match(answer.timing ?? '', /forward;dur=[\d.]+/);
      assert.equal(answer.record.predictions[0].label, 'nine');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      site.close();
    }
  });

  test('follows the system theme, light and dark', async () => {
    const dir = process.env.PTJS_SCREENSHOT_DIR;
    if (dir) mkdirSync(dir, { recursive: true });
    const luminance = {};
    for (const colorScheme of ['light', 'dark']) {
      const { context, page, problems } = await newTab({ colorScheme, viewport: { width: 1100, height: 760 } });
      await page.goto(`${open.url}/`);
      await page.getByRole('button', { name: 'sample: a handwritten three' }).click();
      await page.waitForFunction(() => document.querySelector('#topk li .label')?.textContent === 'three');
      await page.waitForFunction(() => /requests\s*[1-9]/.test(document.querySelector('#metrics')?.innerText ?? ''));
      luminance[colorScheme] = await page.evaluate(() => {
        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      });
      if (dir) await page.screenshot({ path: path.join(dir, `page-${colorScheme}.png`), fullPage: true });
      assert.deepEqual(problems, []);
      await context.close();
    }
    assert.ok(luminance.light > 0.8 && luminance.dark < 0.2, JSON.stringify(luminance));
  });
});
