// ptjs serve --api-key: the client sends the key; requests without it or with a wrong one get 401.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { PtjsClient, PtjsError } from '../../apps/node/index.js';
import { startServer, tinyModel } from './helpers.mjs';

const KEY = 'node-test-key';
const tiny = tinyModel();
const input = [{ name: 'x', shape: [1, 4], data: Float32Array.from([1, 2, 3, 4]) }];
let server;

before(async () => {
  server = await startServer(['--model', `tiny=${tiny.model}`, '--api-key', KEY]);
});
after(async () => { if (server) await server.stop(); });

async function unauthorized(promise) {
  const err = await promise.then(() => assert.fail('expected 401'), (e) => e);
  assert.ok(err instanceof PtjsError, String(err));
  assert.equal(err.status, 401);
  assert.equal(err.message, err.body.error);
}

test('with the key: infer and metadata work', async () => {
  const client = new PtjsClient({ baseUrl: server.url, apiKey: KEY });
  const result = await client.infer('tiny', input);
  assert.deepEqual(result.outputs[0].shape, [1, 3]);
  assert.equal((await client.metadata('tiny')).name, 'tiny');
});

test('without a key: 401', async () => {
  const client = new PtjsClient({ baseUrl: server.url });
  await unauthorized(client.infer('tiny', input));
  await unauthorized(client.metadata('tiny'));
});

test('health stays open without a key (probes)', async () => {
  const client = new PtjsClient({ baseUrl: server.url });
  assert.equal(await client.live(), true);
  assert.equal(await client.ready(), true);
});

test('with a wrong key: 401', async () => {
  const client = new PtjsClient({ baseUrl: server.url, apiKey: 'wrong' });
  await unauthorized(client.infer('tiny', input, { binary: true }));
});
