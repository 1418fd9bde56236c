// The page at GET /: lists the models, runs one on an image or on tensors, shows the answer, its
// Server-Timing split, the same call as code, and a live view of /metrics. It only calls this
// server's own API (the Content-Security-Policy forbids anything else), with the API key the
// user typed, kept in sessionStorage (this tab only).
'use strict';

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'ptjs-api-key';
const DIGIT_LABELS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const SAMPLES = [0, 3, 7, 9].map((d) => ({ name: `digit-${d}.png`, label: DIGIT_LABELS[d] }));
const STAGES = ['read', 'decode', 'preprocess', 'queue', 'forward'];

const state = {
  models: [],         // the repository index
  selected: null,     // name
  config: null,       // /v2/models/{m}/config of the selected model
  lastCall: null,     // {kind: 'image'|'tensor', ...} for the code snippets
  codeTab: 'curl',
  metricsBefore: null, // {time, requests} of the previous metrics poll, for a rate
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

// One call to this server. A 401 brings up the key form; other errors throw with the server's
// own message ({"error": ...}).
async function api(method, path, { body, headers = {} } = {}) {
  const key = apiKey();
  if (key) headers = { ...headers, Authorization: `Bearer ${key}` };
  const res = await fetch(path, { method, body, headers });
  if (res.status === 401) {
    askForKey(key ? 'That key was refused; try again.' : '');
    throw new HttpError(401, 'this server needs an API key');
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = `${res.status}: ${(await res.json()).error}`;
    } catch { /* not JSON: keep the status line */ }
    throw new HttpError(res.status, message);
  }
  return res;
}

function askForKey(message) {
  $('key-form').hidden = false;
  $('key-error').textContent = message;
  $('key').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $('key').value);
  $('key').value = '';
  $('key-form').hidden = true;
  refresh().catch(showError);
});

function showError(err) {
  if (err instanceof HttpError && err.status === 401) return;  // the key form says it
  $('call-error').textContent = String(err.message || err);
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// ---- server and models -------------------------------------------------------------------

async function refresh() {
  // The server marks the page when it wants a key: ask before the first call, not after a 401.
  if (document.body.dataset.apiKey === 'required' && !apiKey()) {
    askForKey('');
    return;
  }
  const ready = await fetch('/v2/health/ready');
  const server = await (await api('GET', '/v2')).json();
  $('server').textContent = `version ${server.version}, ${ready.ok ? 'ready' : 'loading models…'}`;
  state.models = await (await api('POST', '/v2/repository/index')).json();
  renderModelList();
  const first = state.models.find((m) => m.state === 'READY');
  if (!state.selected && first) await selectModel(first.name);
  // Models still loading: look again shortly.
  if (state.models.some((m) => m.state === 'LOADING') || !ready.ok) setTimeout(() => refresh().catch(showError), 1000);
}

function renderModelList() {
  const list = $('model-list');
  list.replaceChildren(...state.models.map((m) => {
    const button = element('button', { type: 'button', 'data-model': m.name },
      element('span', { text: m.name }),
      element('span', { class: `state ${m.state}`, text: m.state.toLowerCase() }));
    button.setAttribute('aria-current', String(m.name === state.selected));
    button.setAttribute('aria-label', `${m.name}, ${m.state.toLowerCase()}${m.reason ? `: ${m.reason}` : ''}`);
    button.disabled = m.state !== 'READY';
    button.addEventListener('click', () => selectModel(m.name).catch(showError));
    return element('li', {}, button);
  }));
}

async function selectModel(name) {
  state.selected = name;
  state.lastCall = null;
  state.metricsBefore = null;
  renderModelList();
  const config = await (await api('GET', `/v2/models/${encodeURIComponent(name)}/config`)).json();
  state.config = config;
  $('empty').hidden = true;
  $('model').hidden = false;
  $('model-name').textContent = config.name;
  $('model-summary').textContent = `${config.platform} · ${config.input.type} input` +
    (config.input.mode ? ` (${config.input.mode})` : '') +
    ` · batches of up to ${config.max_batch_size} within ${config.max_delay_ms} ms · ${config.runs}`;
  const image = config.input.type === 'image';
  $('try-image').hidden = !image;
  $('try-tensor').hidden = image;
  $('samples').hidden = !(image && isDigits(config.labels));
  $('topk').replaceChildren();
  $('preview').hidden = true;
  $('timing').hidden = true;
  $('tensor-output').textContent = '';
  $('call-error').textContent = '';
  $('code').hidden = true;
  renderDetails(config);
  if (!image) $('tensor-request').value = JSON.stringify({ inputs: config.inputs.map(zeroTensor) }, null, 1);
  await pollMetrics();
}

function isDigits(labels) {
  return labels.length === 10 && labels.every((l, i) => l === DIGIT_LABELS[i] || l === String(i));
}

function renderDetails(config) {
  const rows = [];
  for (const [kind, tensors] of [['input', config.inputs], ['output', config.outputs]]) {
    for (const t of tensors) {
      rows.push(element('tr', {}, element('td', { text: kind }), element('td', { text: t.name }),
        element('td', { text: t.datatype }), element('td', { text: `[${t.shape.join(', ')}]` })));
    }
  }
  $('tensors').tBodies[0].replaceChildren(...rows);
  $('pipeline').textContent = config.preprocess || '(tensor input: no pipeline)';
  $('label-count').textContent = String(config.labels.length);
  $('labels').replaceChildren(...config.labels.map((l) => element('li', { text: l })));
}

// A v2 input of zeros, a batch of one, for the tensor form.
function zeroTensor(meta) {
  const shape = meta.shape.map((d) => (d < 0 ? 1 : d));
  const count = shape.reduce((a, b) => a * b, 1);
  const zero = meta.datatype === 'BOOL' ? false : 0;
  return { name: meta.name, shape, datatype: meta.datatype, data: new Array(Math.min(count, 100000)).fill(zero) };
}

// ---- an image ----------------------------------------------------------------------------

async function predictImage(blob, fileName) {
  const model = state.selected;
  $('call-error').textContent = '';
  const preview = $('preview');
  if (preview.src.startsWith('blob:')) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(blob);
  preview.alt = `the image sent: ${fileName}`;
  preview.hidden = false;
  $('topk').replaceChildren(element('li', { class: 'muted', text: 'running…' }));
  state.lastCall = { kind: 'image', model, fileName, type: blob.type || 'application/octet-stream' };
  renderCode();
  try {
    const res = await api('POST', `/predictions/${encodeURIComponent(model)}`,
      { body: blob, headers: { 'Content-Type': state.lastCall.type } });
    const record = await res.json();
    renderPredictions(record);
    renderTiming(parseServerTiming(res.headers.get('Server-Timing')));
  } catch (err) {
    $('topk').replaceChildren();
    showError(err);
  }
  pollMetrics().catch(() => {});
}

function renderPredictions(record) {
  const items = (record.predictions || []).map((p) => {
    const label = p.label ?? String(p.index);
    const fill = element('div', { class: 'fill' });
    fill.style.width = `${Math.max(0, Math.min(1, p.score)) * 100}%`;
    const track = element('div', { class: 'track', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '1',
      'aria-valuenow': String(p.score), 'aria-label': `${label} score` }, fill);
    return element('li', {}, element('span', { class: 'label', text: label }), track,
      element('span', { class: 'score', text: p.score.toFixed(4) }));
  });
  if (items.length === 0) {
    // No TopK in the model's postprocessing: show what came back.
    items.push(element('li', {}, element('pre', { text: JSON.stringify(record, null, 1).slice(0, 4000) })));
  }
  $('topk').replaceChildren(...items);
}

function parseServerTiming(header) {
  const out = {};
  for (const entry of (header || '').split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    const dur = params.find((p) => p.startsWith('dur='));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}

function renderTiming(timing) {
  if (!('total' in timing)) {
    $('timing').hidden = true;
    return;
  }
  const sum = STAGES.reduce((a, s) => a + (timing[s] || 0), 0) || 1;
  const bar = $('timing-bar');
  bar.replaceChildren(...STAGES.map((s) => {
    const part = element('span', { class: s });
    part.style.width = `${((timing[s] || 0) / sum) * 100}%`;
    return part;
  }));
  const text = STAGES.map((s) => `${s} ${(timing[s] || 0).toFixed(2)} ms`).join(', ');
  bar.setAttribute('aria-label', `time split: ${text}`);
  $('timing-legend').replaceChildren(
    ...STAGES.map((s) => element('li', {}, element('i', { class: s }), `${s} ${(timing[s] || 0).toFixed(2)} ms`)),
    element('li', { text: `total ${timing.total.toFixed(2)} ms` }));
  $('timing').hidden = false;
}

const drop = $('drop');
$('file').addEventListener('change', () => {
  const file = $('file').files[0];
  if (file) predictImage(file, file.name);
  $('file').value = '';
});
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  const file = event.dataTransfer.files[0];
  if (file) predictImage(file, file.name);
});
document.addEventListener('paste', (event) => {
  if ($('try-image').hidden) return;
  const file = [...event.clipboardData.files].find((f) => f.type.startsWith('image/'));
  if (file) predictImage(file, file.name || 'pasted.png');
});
for (const sample of SAMPLES) {
  const button = element('button', { type: 'button', 'aria-label': `sample: a handwritten ${sample.label}` },
    element('img', { src: `/ui/${sample.name}`, alt: '' }));
  button.addEventListener('click', async () => {
    const blob = await (await fetch(`/ui/${sample.name}`)).blob();
    predictImage(blob, sample.name);
  });
  $('samples').append(button);
}

// ---- tensors -----------------------------------------------------------------------------

$('tensor-run').addEventListener('click', async () => {
  const model = state.selected;
  $('call-error').textContent = '';
  let request;
  try {
    request = JSON.parse($('tensor-request').value);
  } catch (err) {
    showError(new Error(`the request is not valid JSON: ${err.message}`));
    return;
  }
  state.lastCall = { kind: 'tensor', model, request };
  renderCode();
  try {
    const res = await api('POST', `/v2/models/${encodeURIComponent(model)}/infer`,
      { body: JSON.stringify(request), headers: { 'Content-Type': 'application/json' } });
    const answer = await res.json();
    $('tensor-output').textContent = JSON.stringify(answer, null, 1);
    const timing = parseServerTiming(res.headers.get('Server-Timing'));
    if ('total' in timing) $('tensor-output').textContent += `\n\nServer-Timing: ${res.headers.get('Server-Timing')}`;
  } catch (err) {
    $('tensor-output').textContent = '';
    showError(err);
  }
  pollMetrics().catch(() => {});
});

// ---- the same call as code ---------------------------------------------------------------

function snippets(call) {
  const base = location.origin;
  const key = apiKey() !== '';
  const model = call.model;
  const path = call.kind === 'image' ? `/predictions/${model}` : `/v2/models/${model}/infer`;
  const curlAuth = key ? ' \\\n  -H "Authorization: Bearer $PTJS_API_KEY"' : '';
  const fetchAuth = key ? '\n    Authorization: `Bearer ${process.env.PTJS_API_KEY}`,' : '';
  const clientKey = key ? ', apiKey: process.env.PTJS_API_KEY' : '';
  const file = call.kind === 'image' ? call.fileName.replace(/[^\w.-]/g, '_') : '';
  const body = call.kind === 'tensor' ? JSON.stringify(call.request) : '';
  const shortBody = body.length > 400 ? `${body.slice(0, 400)}…` : body;
  if (call.kind === 'image') {
    return {
      curl: `curl -X POST ${base}${path}${curlAuth} \\\n  -H "Content-Type: ${call.type}" \\\n  --data-binary @${file}`,
      fetch: `import { readFile } from 'node:fs/promises';\n\nconst res = await fetch('${base}${path}', {\n  method: 'POST',\n  headers: {${fetchAuth}\n    'Content-Type': '${call.type}',\n  },\n  body: await readFile('${file}'),\n});\nconsole.log(await res.json(), res.headers.get('server-timing'));`,
      client: `import { PtjsClient } from 'ptjs-client';\n\nconst client = new PtjsClient({ baseUrl: '${base}'${clientKey} });\nconst record = await client.predict('${model}', '${file}');\nconsole.log(record.predictions, record.serverTiming);`,
    };
  }
  const inputs = call.request.inputs || [];
  const clientInputs = inputs.map((t) => `  { name: '${t.name}', shape: ${JSON.stringify(t.shape)}, datatype: '${t.datatype}', data: [/* ${t.datatype} values */] },`).join('\n');
  return {
    curl: `curl -X POST ${base}${path}${curlAuth} \\\n  -H "Content-Type: application/json" \\\n  -d '${shortBody}'`,
    fetch: `const res = await fetch('${base}${path}', {\n  method: 'POST',\n  headers: {${fetchAuth}\n    'Content-Type': 'application/json',\n  },\n  body: JSON.stringify(${shortBody}),\n});\nconsole.log((await res.json()).outputs, res.headers.get('server-timing'));`,
    client: `import { PtjsClient } from 'ptjs-client';\n\nconst client = new PtjsClient({ baseUrl: '${base}'${clientKey} });\nconst result = await client.infer('${model}', [\n${clientInputs}\n]);\nconsole.log(result.outputs, result.serverTiming);`,
  };
}

function renderCode() {
  if (!state.lastCall) return;
  $('code').hidden = false;
  $('code-text').textContent = snippets(state.lastCall)[state.codeTab];
  $('code-text').setAttribute('aria-labelledby', `tab-${state.codeTab}`);
  for (const tab of ['curl', 'fetch', 'client']) {
    const button = $(`tab-${tab}`);
    button.setAttribute('aria-selected', String(tab === state.codeTab));
    button.tabIndex = tab === state.codeTab ? 0 : -1;
  }
}

const TABS = ['curl', 'fetch', 'client'];
for (const tab of TABS) {
  const button = $(`tab-${tab}`);
  button.addEventListener('click', () => {
    state.codeTab = tab;
    renderCode();
  });
  // Arrow keys move between tabs, as the ARIA tabs pattern has it.
  button.addEventListener('keydown', (event) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    state.codeTab = TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length];
    renderCode();
    $(`tab-${state.codeTab}`).focus();
  });
}
$('copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('code-text').textContent);
    $('copied').textContent = 'copied';
  } catch {
    $('copied').textContent = 'the browser refused the clipboard: select the text instead';
  }
  setTimeout(() => { $('copied').textContent = ''; }, 2000);
});

// ---- live metrics ------------------------------------------------------------------------

// Prometheus text format -> [{name, labels, value}], enough for ptjs's own metrics.
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, k, v] of (match[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

// The bucket bound under which a fraction q of a histogram's observations fall.
function quantile(buckets, q) {
  const total = buckets.length ? buckets[buckets.length - 1].count : 0;
  if (!total) return NaN;
  const bucket = buckets.find((b) => b.count >= q * total);
  return bucket ? bucket.le : NaN;
}

async function pollMetrics() {
  const model = state.selected;
  if (!model) return;
  const samples = parseMetrics(await (await api('GET', '/metrics')).text());
  const mine = (name) => samples.filter((s) => s.name === name && s.labels.model === model);
  const requests = mine('ptjs_requests_total').filter((s) => s.labels.endpoint === 'infer' || s.labels.endpoint === 'predictions');
  const answered = requests.reduce((a, s) => a + s.value, 0);
  const failed = requests.filter((s) => Number(s.labels.code) >= 400).reduce((a, s) => a + s.value, 0);
  const sum = (name) => mine(name).reduce((a, s) => a + s.value, 0);
  const latencyCount = sum('ptjs_request_duration_seconds_count');
  const buckets = mine('ptjs_request_duration_seconds_bucket')
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const batches = sum('ptjs_batch_size_count');
  const now = performance.now();
  let rate = '–';
  if (state.metricsBefore && now > state.metricsBefore.time) {
    rate = ((answered - state.metricsBefore.requests) / ((now - state.metricsBefore.time) / 1000)).toFixed(1);
  }
  state.metricsBefore = { time: now, requests: answered };
  const ms = (seconds) => (Number.isFinite(seconds) ? `${(seconds * 1000).toFixed(1)} ms` : '–');
  const stats = [
    ['requests', String(answered)],
    ['errors', String(failed)],
    ['requests/s', rate],
    ['mean latency', latencyCount ? ms(sum('ptjs_request_duration_seconds_sum') / latencyCount) : '–'],
    ['p99 latency ≤', ms(quantile(buckets, 0.99))],
    ['mean batch', batches ? (sum('ptjs_batch_size_sum') / batches).toFixed(2) : '–'],
    ['queue depth', String(sum('ptjs_queue_depth'))],
  ];
  $('metrics').replaceChildren(...stats.map(([name, value]) =>
    element('div', {}, element('dt', { text: name }), element('dd', { text: value }))));
}

// The poll also tells when the server went away (stopped, or a model failed to load and it
// exited) and when it is back.
const LOST = 'the server does not answer: stopped?';
setInterval(() => {
  if (document.hidden || !state.selected) return;
  pollMetrics().then(() => {
    if ($('server').textContent === LOST) refresh().catch(showError);
  }, (err) => {
    if (!(err instanceof HttpError)) $('server').textContent = LOST;
  });
}, 2000);

refresh().catch(showError);
