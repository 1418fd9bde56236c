// ptjs-client against a real `ptjs serve` with the digits image model and a tiny tensor model.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { PtjsClient, PtjsError, parseServerTiming } from '../../apps/node/index.js';
import { CLIENT, DIGITS_MODEL, digitImages, linear, runRecord, startServer, tinyModel } from './helpers.mjs';

const tiny = tinyModel();
const images = digitImages();
const png = images[0].file;
let server;
let client;

before(async () => {
  server = await startServer(['--model', `digits=${DIGITS_MODEL}`, '--model', `tiny=${tiny.model}`]);
  client = new PtjsClient({ baseUrl: server.url, timeoutMs: 30_000 });
});

after(async () => {
  if (server) assert.equal(await server.stop(), 0, 'SIGTERM ends ptjs serve with exit code 0');
});

// Watches what the client sends: each call's request headers and whether the answer was binary.
const calls = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (url, init = {}) => {
  const res = await realFetch(url, init);
  calls.push({ url: String(url), headers: new Headers(init.headers), binaryAnswer: res.headers.has('inference-header-content-length') });
  return res;
};
const lastCall = () => calls[calls.length - 1];

/** Rejects with a PtjsError of this status whose message is the server's {"error"} text. */
async function rejectsWith(promise, status) {
  const err = await promise.then(() => assert.fail(`expected HTTP ${status}`), (e) => e);
  assert.ok(err instanceof PtjsError, `expected a PtjsError, got ${err}`);
  assert.equal(err.status, status, err.message);
  assert.equal(typeof err.body?.error, 'string', `error body: ${JSON.stringify(err.body)}`);
  assert.equal(err.message, err.body.error);
  assert.ok(err.message.length > 0);
  return err;
}

function assertClose(actual, expected, tol = 1e-5) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

describe('health and metadata', () => {
  test('live and ready', async () => {
    assert.equal(await client.live(), true);
    assert.equal(await client.ready(), true);
    assert.equal(await client.ready('digits'), true);
    assert.equal(await client.ready('tiny'), true);
  });

  test('server metadata', async () => {
    const meta = await client.serverMetadata();
    assert.equal(typeof meta.name, 'string');
    assert.equal(typeof meta.version, 'string');
    assert.ok(Array.isArray(meta.extensions));
  });

  test('tensor model metadata follows the embedded spec', async () => {
    const meta = await client.metadata('tiny');
    assert.equal(meta.name, 'tiny');
    assert.equal(meta.platform, 'pytorch_torchscript');
    assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }]);
    assert.equal(meta.outputs[0].name, 'output0');
  });

  test('image model metadata: an NCHW FP32 input', async () => {
    const meta = await client.metadata('digits');
    assert.equal(meta.inputs.length, 1);
    assert.equal(meta.inputs[0].datatype, 'FP32');
    assert.equal(meta.inputs[0].shape.length, 4);
    assert.equal(meta.inputs[0].shape[1], 1, 'grayscale: one channel');
  });

  test('unknown model: 404 from metadata and ready', async () => {
    await rejectsWith(client.metadata('nope'), 404);
    await rejectsWith(client.ready('nope'), 404);
  });
});

describe('predict', () => {
  let expected;
  before(async () => {
    expected = await client.predict('digits', readFileSync(png));
  });

  test('a Buffer gives the same predictions as ptjs run', () => {
    const record = runRecord(DIGITS_MODEL, png);
    assert.ok(Array.isArray(expected.predictions), JSON.stringify(expected));
    assert.equal(expected.predictions.length, record.predictions.length);
    expected.predictions.forEach((p, i) => {
      assert.equal(p.index, record.predictions[i].index);
      assert.equal(p.label, record.predictions[i].label);
      assert.ok(Math.abs(p.score - record.predictions[i].score) < 1e-4);
    });
  });

  test('the digits model reads most digits right', async () => {
    const hits = await Promise.all(images.map(async ({ label, file }) => {
      const { predictions } = await client.predict('digits', file);
      return predictions[0].label === label;
    }));
    assert.ok(hits.filter(Boolean).length >= Math.ceil(images.length * 0.7), `hits: ${hits}`);
  });

  const sameAs = (result) => assert.deepEqual(result.predictions.map((p) => p.index), expected.predictions.map((p) => p.index));

  test('a file path', async () => sameAs(await client.predict('digits', png)));
  test('a Uint8Array', async () => sameAs(await client.predict('digits', new Uint8Array(readFileSync(png)))));
  test('a Blob', async () => sameAs(await client.predict('digits', new Blob([readFileSync(png)], { type: 'image/png' }))));
  test('a Node Readable', async () => sameAs(await client.predict('digits', createReadStream(png, { highWaterMark: 64 }))));
  test('a web ReadableStream', async () => sameAs(await client.predict('digits', Readable.toWeb(createReadStream(png)))));

  test('unknown model: 404', async () => {
    await rejectsWith(client.predict('nope', png), 404);
  });

  test('the server\'s time split comes along as serverTiming, outside the JSON', async () => {
    const record = await client.predict('digits', png);
    const t = record.serverTiming;
    assert.deepEqual(Object.keys(t), ['read', 'decode', 'preprocess', 'queue', 'forward', 'total']);
    const stages = t.read + t.decode + t.preprocess + t.queue + t.forward;
    assert.ok(t.decode > 0 && t.forward > 0 && t.total >= stages - 0.01, JSON.stringify(t));
    assert.deepEqual(Object.keys(record), ['predictions']);
    assert.equal(JSON.stringify(record).includes('serverTiming'), false);
    const result = await client.infer('tiny', [{ name: 'x', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) }]);
    assert.ok(result.serverTiming.forward > 0 && result.serverTiming.decode === 0, JSON.stringify(result.serverTiming));
  });

  test('bytes that are not an image: 400, and the server goes on', async () => {
    await rejectsWith(client.predict('digits', Buffer.from('this is not an image')), 400);
    sameAs(await client.predict('digits', png));
  });
});

test('parseServerTiming reads the header, descriptions and quotes included', () => {
  assert.deepEqual(parseServerTiming('decode;dur=1.5, cache;desc="hit", forward;desc="f";dur="2", total;dur=4'),
    { decode: 1.5, forward: 2, total: 4 });
  assert.deepEqual(parseServerTiming(null), {});
});

describe('infer', () => {
  const x = Float32Array.from([0.5, -1, 2, 0.25, 1, 2, 3, 4]);
  const want = linear(x, tiny);

  function checkTiny(result, n = 2, expect = want) {
    assert.equal(result.model_name, 'tiny');
    assert.equal(result.outputs.length, 1);
    const [out] = result.outputs;
    assert.equal(out.name, 'output0');
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, [n, 3]);
    assert.ok(out.data instanceof Float32Array);
    assertClose(out.data, expect);
  }

  test('JSON', async () => {
    checkTiny(await client.infer('tiny', [{ name: 'x', shape: [2, 4], data: x }]));
    assert.equal(lastCall().headers.get('content-type'), 'application/json');
    assert.equal(lastCall().binaryAnswer, false);
  });

  test('binary-data extension, asked for', async () => {
    checkTiny(await client.infer('tiny', [{ name: 'x', shape: [2, 4], data: x }], { binary: true }));
    assert.ok(lastCall().headers.has('inference-header-content-length'));
    assert.equal(lastCall().binaryAnswer, true);
  });

  test('binary-data extension, chosen for a large input', async () => {
    const n = 5000; // 80 KB of FP32 > 64 KiB
    const big = Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i));
    checkTiny(await client.infer('tiny', [{ name: 'x', shape: [n, 4], data: big }]), n, linear(big, tiny));
    assert.ok(lastCall().headers.has('inference-header-content-length'));
    assert.equal(lastCall().binaryAnswer, true);
    checkTiny(await client.infer('tiny', [{ name: 'x', shape: [n, 4], data: big }], { binary: false }), n, linear(big, tiny));
    assert.equal(lastCall().headers.has('inference-header-content-length'), false);
  });

  test('plain array with a datatype, and outputs by name', async () => {
    const result = await client.infer('tiny', [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: Array.from(x) }],
      { outputs: ['output0'] });
    checkTiny(result);
  });

  test('outputs by name, binary', async () => {
    checkTiny(await client.infer('tiny', [{ name: 'x', shape: [2, 4], data: x }], { binary: true, outputs: ['output0'] }));
  });

  test('an encoded image as a BYTES input', async () => {
    const { predictions } = await client.predict('digits', png);
    const result = await client.infer('digits', [{ name: 'x', shape: [1], datatype: 'BYTES', data: [readFileSync(png)] }]);
    const logits = result.outputs[0].data;
    assert.equal(logits.length, 10);
    const argmax = logits.indexOf(Math.max(...logits));
    assert.equal(argmax, predictions[0].index);
  });

  test("Triton's classification extension: the top classes as strings", async () => {
    const { predictions } = await client.predict('digits', png);
    const image = [{ name: 'x', shape: [1], datatype: 'BYTES', data: [readFileSync(png)] }];
    // An image input goes binary, and so its outputs, unless an output says binary_data: false.
    const binary = await client.infer('digits', image, { outputs: [{ name: 'output0', parameters: { classification: 2 } }] });
    const json = await client.infer('digits', image, {
      outputs: [{ name: 'output0', parameters: { classification: 2, binary_data: false } }],
    });
    assert.deepEqual(json.outputs[0].shape, [1, 2]);
    assert.equal(json.outputs[0].datatype, 'BYTES');
    assert.deepEqual(binary.outputs[0].data.map(String), json.outputs[0].data);
    const [value, index, label] = json.outputs[0].data[0].split(':');
    assert.equal(Number(index), predictions[0].index);
    assert.equal(label, predictions[0].label);
    assert.ok(Number.isFinite(Number(value)));
  });

  test('bad shape: 400', async () => {
    const err = await rejectsWith(client.infer('tiny', [{ name: 'x', shape: [2, 5], data: new Float32Array(10) }]), 400);
    assert.match(err.message, /shape/i);
  });

  test('shape that does not match the data: 400', async () => {
    await rejectsWith(client.infer('tiny', [{ name: 'x', shape: [3, 4], data: x }]), 400);
    await rejectsWith(client.infer('tiny', [{ name: 'x', shape: [3, 4], data: x }], { binary: true }), 400);
  });

  test('wrong datatype: 400', async () => {
    await rejectsWith(client.infer('tiny', [{ name: 'x', shape: [2, 4], data: Int32Array.from(x) }]), 400);
  });

  test('unknown model: 404', async () => {
    await rejectsWith(client.infer('nope', [{ name: 'x', shape: [2, 4], data: x }]), 404);
  });
});

test('examples/http-upload.mjs forwards an upload to ptjs', async () => {
  const example = spawn(process.execPath, [new URL('examples/http-upload.mjs', `file://${CLIENT}`).pathname], {
    env: { ...process.env, PTJS_URL: server.url, PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let log = '';
      example.stderr.on('data', (d) => {
        log += d;
        const m = log.match(/listening on (http:\/\/\S+)\r?\n/);  // the whole line
        if (m) resolve(m[1]);
      });
      example.on('exit', (code) => reject(new Error(`example exited (${code}): ${log}`)));
    });
    const res = await fetch(`${url}/classify/digits`, { method: 'POST', body: readFileSync(png) });
    assert.equal(res.status, 200);
    const direct = await client.predict('digits', png);
    assert.deepEqual((await res.json()).predictions.map((p) => p.index), direct.predictions.map((p) => p.index));
    const missing = await fetch(`${url}/classify/nope`, { method: 'POST', body: readFileSync(png) });
    assert.equal(missing.status, 404);
    assert.match((await missing.json()).error, /nope/);
  } finally {
    example.kill();
  }
});

describe('timeouts and aborts', () => {
  // A server that accepts and never answers.
  let stall;
  let stallUrl;
  before(async () => {
    stall = http.createServer(() => {});
    await new Promise((resolve) => stall.listen(0, '127.0.0.1', resolve));
    stallUrl = `http://127.0.0.1:${stall.address().port}`;
  });
  after(() => { stall.closeAllConnections(); stall.close(); });

  test('timeoutMs rejects with a TimeoutError', async () => {
    const slow = new PtjsClient({ baseUrl: stallUrl, timeoutMs: 200 });
    const t0 = Date.now();
    await assert.rejects(slow.predict('digits', png), { name: 'TimeoutError' });
    assert.ok(Date.now() - t0 < 5000);
  });

  test("the caller's AbortSignal.timeout", async () => {
    const c = new PtjsClient({ baseUrl: stallUrl });
    await assert.rejects(c.infer('tiny', [{ name: 'x', shape: [1, 4], data: new Float32Array(4) }],
      { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
  });

  test("the caller's AbortController, combined with timeoutMs", async () => {
    const c = new PtjsClient({ baseUrl: stallUrl, timeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(c.live({ signal: controller.signal }), { name: 'AbortError' });
  });

  test('a generous timeout does not get in the way', async () => {
    const c = new PtjsClient({ baseUrl: server.url, timeoutMs: 60_000 });
    assert.equal(await c.live({ signal: AbortSignal.timeout(60_000) }), true);
  });

  test('an unreachable server: PtjsError with status 0', async () => {
    const port = stall.address().port;
    const gone = http.createServer();
    await new Promise((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const closedPort = gone.address().port;
    await new Promise((resolve) => gone.close(resolve));
    assert.notEqual(closedPort, port);
    const c = new PtjsClient({ baseUrl: `http://127.0.0.1:${closedPort}` });
    const err = await c.live().catch((e) => e);
    assert.ok(err instanceof PtjsError);
    assert.equal(err.status, 0);
  });
});
