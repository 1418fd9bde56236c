// ptjs-client: a zero-dependency client for `ptjs serve` (KServe v2 + TorchServe-compatible
// HTTP), over Node's built-in fetch. Node >= 20. See README.md.
import { readFile } from 'node:fs/promises';

/** Above this many bytes of tensor data, infer() switches to the binary-data extension. */
export const BINARY_THRESHOLD = 64 * 1024;

// Typed array class <-> KServe v2 datatype. The first match wins, so Buffer is UINT8.
const TYPED = [
  [Float32Array, 'FP32'], [Float64Array, 'FP64'],
  [Int8Array, 'INT8'], [Int16Array, 'INT16'], [Int32Array, 'INT32'], [BigInt64Array, 'INT64'],
  [Uint8Array, 'UINT8'], [Uint8ClampedArray, 'UINT8'], [Uint16Array, 'UINT16'],
  [Uint32Array, 'UINT32'], [BigUint64Array, 'UINT64'],
];
const ARRAY_OF = {
  FP32: Float32Array, FP64: Float64Array,
  INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, INT64: BigInt64Array,
  UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, UINT64: BigUint64Array,
  BOOL: Uint8Array,
};

/** An HTTP error answered by the server (status >= 400), or status 0 when it could not be reached. */
export class PtjsError extends Error {
  constructor(message, { status = 0, body = null, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'PtjsError';
    this.status = status;
    this.body = body;
  }
}

export class PtjsClient {
  /** @param {{baseUrl?: string, apiKey?: string, timeoutMs?: number}} [options] */
  constructor({ baseUrl = 'http://127.0.0.1:8080', apiKey, timeoutMs } = {}) {
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.apiKey = apiKey;
    this.timeoutMs = timeoutMs;
  }

  /** TorchServe-style prediction: POST the encoded image, get the postprocessed records. */
  async predict(model, image, { signal } = {}) {
    const { body, type } = await imageBody(image);
    const res = await this.#fetch('POST', `/predictions/${enc(model)}`, {
      body, signal, headers: { 'Content-Type': type || 'application/octet-stream' },
    });
    return withTiming(await res.json(), res);
  }

  /** KServe v2 inference with typed-array tensors. */
  async infer(model, inputs, { binary, outputs, signal } = {}) {
    const tensors = inputs.map(toTensor);
    const bytes = tensors.reduce((n, t) => n + t.bytes.byteLength, 0);
    const useBinary = binary ?? (bytes > BINARY_THRESHOLD || tensors.some((t) => t.needsBinary));
    const header = {};
    header.inputs = tensors.map(({ name, shape, datatype, data, bytes }) => (useBinary
      ? { name, shape, datatype, parameters: { binary_data_size: bytes.byteLength } }
      : { name, shape, datatype, data: jsonData(datatype, data) }));
    if (outputs) {
      header.outputs = outputs.map((o) => {
        const out = typeof o === 'string' ? { name: o } : { ...o };
        if (useBinary) out.parameters = { binary_data: true, ...out.parameters };
        return out;
      });
    } else if (useBinary) {
      header.parameters = { binary_data_output: true };
    }

    let body;
    const headers = {};
    if (useBinary) {
      const head = Buffer.from(stringify(header));
      body = Buffer.concat([head, ...tensors.map((t) => t.bytes)]);
      headers['Content-Type'] = 'application/octet-stream';
      headers['Inference-Header-Content-Length'] = String(head.byteLength);
    } else {
      body = stringify(header);
      headers['Content-Type'] = 'application/json';
    }
    const res = await this.#fetch('POST', `/v2/models/${enc(model)}/infer`, { body, headers, signal });
    return withTiming(
      decodeInferResponse(res.headers.get('inference-header-content-length'), await res.arrayBuffer()), res);
  }

  /** Server readiness, or one model's: true (200) or false (503). */
  async ready(model, { signal } = {}) {
    const path = model == null ? '/v2/health/ready' : `/v2/models/${enc(model)}/ready`;
    return this.#health(path, signal);
  }

  /** Server liveness: true (200) or false (503). */
  async live({ signal } = {}) {
    return this.#health('/v2/health/live', signal);
  }

  /** Model metadata: {name, platform, inputs: [{name, datatype, shape}], outputs: [...]}. */
  async metadata(model, { signal } = {}) {
    return (await this.#fetch('GET', `/v2/models/${enc(model)}`, { signal })).json();
  }

  /** Server metadata: {name, version, extensions}. */
  async serverMetadata({ signal } = {}) {
    return (await this.#fetch('GET', '/v2', { signal })).json();
  }

  async #health(path, signal) {
    const res = await this.#fetch('GET', path, { signal, ok: [503] });
    await res.arrayBuffer();
    return res.status !== 503;
  }

  // One request. Throws PtjsError for an HTTP error (unless its status is in `ok`) or an
  // unreachable server; an abort or timeout rejects with the signal's reason (AbortError or
  // TimeoutError), as fetch does.
  async #fetch(method, path, { body, headers = {}, signal, ok = [] } = {}) {
    const url = this.baseUrl + path;
    if (this.apiKey) headers = { Authorization: `Bearer ${this.apiKey}`, ...headers };
    const signals = [signal, this.timeoutMs ? AbortSignal.timeout(this.timeoutMs) : null].filter(Boolean);
    let res;
    try {
      res = await fetch(url, {
        method, body, headers, signal: signals.length > 1 ? anySignal(signals) : signals[0],
      });
    } catch (err) {
      if (err?.name === 'AbortError' || err?.name === 'TimeoutError') throw err;
      throw new PtjsError(`cannot reach ${url}: ${err?.cause?.message ?? err?.message}`, { cause: err });
    }
    if (res.ok || ok.includes(res.status)) return res;
    const text = await res.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
    const message = (parsed && typeof parsed === 'object' && parsed.error) || text || res.statusText;
    throw new PtjsError(String(message), { status: res.status, body: parsed });
  }
}

const enc = (name) => encodeURIComponent(String(name));

/**
 * The stages of a Server-Timing header, in milliseconds: "decode;dur=1.2, forward;dur=3" ->
 * { decode: 1.2, forward: 3 }. Entries without a duration are left out.
 */
export function parseServerTiming(header) {
  const out = {};
  for (const entry of String(header ?? '').split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    const dur = params.find((p) => /^dur=/i.test(p));
    if (name && dur) {
      const ms = Number(dur.slice(4).replace(/^"|"$/g, ''));
      if (Number.isFinite(ms)) out[name] = ms;
    }
  }
  return out;
}

// Attaches the response's Server-Timing as a non-enumerable `serverTiming`, so that the result
// still serialises (JSON.stringify, deepEqual) as the server's answer alone.
function withTiming(result, res) {
  if (result !== null && typeof result === 'object') {
    Object.defineProperty(result, 'serverTiming', {
      value: parseServerTiming(res.headers.get('server-timing')), enumerable: false, configurable: true,
    });
  }
  return result;
}

// AbortSignal.any arrived in Node 20.3; this stands in for it on 20.0-20.2.
const anySignal = AbortSignal.any?.bind(AbortSignal) ?? ((signals) => {
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) return AbortSignal.abort(s.reason);
    s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
});

// Bytes + content type for predict(): Buffer/Uint8Array/ArrayBuffer, Blob, a file path, or a
// Node Readable / web ReadableStream (read to the end first, so the request has a length).
async function imageBody(image) {
  if (typeof image === 'string') return { body: await readFile(image) };
  if (image instanceof Blob) return { body: image, type: image.type };
  if (image instanceof ArrayBuffer || ArrayBuffer.isView(image)) return { body: asBytes(image) };
  if (image && typeof image[Symbol.asyncIterator] === 'function') {
    const chunks = [];
    for await (const chunk of image) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return { body: Buffer.concat(chunks) };
  }
  throw new TypeError('image must be a Buffer/Uint8Array, Blob, file path, or readable stream');
}

function asBytes(view) {
  return view instanceof ArrayBuffer ? new Uint8Array(view) : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

// {name, shape, [datatype], data} -> {name, shape, datatype, data (typed array or BYTES list), bytes}
function toTensor({ name, shape, datatype, data }) {
  if (!name || !Array.isArray(shape)) throw new TypeError('each input needs a name and a shape');
  if (!datatype) {
    const hit = TYPED.find(([Type]) => data instanceof Type);
    if (!hit) throw new TypeError(`input ${name}: give a typed array, or a datatype with a plain array`);
    datatype = hit[1];
  }
  if (datatype === 'BYTES') {
    const items = (Array.isArray(data) ? data : [data]).map((v) => (typeof v === 'string' ? v : asBytes(v)));
    const parts = items.flatMap((v) => {
      const b = typeof v === 'string' ? Buffer.from(v) : v;
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.byteLength);
      return [len, b];
    });
    return { name, shape, datatype, data: items, bytes: Buffer.concat(parts), needsBinary: items.some((v) => typeof v !== 'string') };
  }
  const Type = ARRAY_OF[datatype];
  if (!Type) throw new TypeError(`input ${name}: unsupported datatype ${datatype}`);
  if (!(data instanceof Type)) {
    const flat = ArrayBuffer.isView(data) ? Array.from(data) : [data].flat(Infinity);
    const big = Type === BigInt64Array || Type === BigUint64Array;
    data = Type.from(flat, (v) => (big ? BigInt(v) : Number(v)));
  }
  return { name, shape, datatype, data, bytes: asBytes(data) };
}

// Tensor data for a JSON body. BigInts are kept exact by stringify() below.
function jsonData(datatype, data) {
  if (datatype === 'BYTES') return data;
  if (datatype === 'BOOL') return Array.from(data, Boolean);
  return Array.from(data);
}

// JSON.stringify that writes BigInt as a plain JSON number (INT64/UINT64 without loss).
function stringify(value) {
  const marks = [];
  const text = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `\u0000${marks.push(v) - 1}` : v));
  return marks.length ? text.replace(/"\\u0000(\d+)"/g, (_, i) => String(marks[i])) : text;
}

// v2 response (JSON, or JSON header + binary outputs) -> outputs with typed-array data.
function decodeInferResponse(headerLength, buffer) {
  const all = new Uint8Array(buffer);
  const n = headerLength == null ? all.byteLength : Number(headerLength);
  const result = JSON.parse(new TextDecoder().decode(all.subarray(0, n)));
  let offset = n;
  for (const out of result.outputs ?? []) {
    const size = out.parameters?.binary_data_size;
    if (size != null) {
      out.data = fromBytes(out.datatype, buffer.slice(offset, offset + size));
      offset += size;
      delete out.parameters.binary_data_size;
      if (Object.keys(out.parameters).length === 0) delete out.parameters;
    } else if (ARRAY_OF[out.datatype] && Array.isArray(out.data)) {
      const Type = ARRAY_OF[out.datatype];
      const big = Type === BigInt64Array || Type === BigUint64Array;
      out.data = Type.from(out.data.flat(Infinity), (v) => (big ? BigInt(v) : Number(v)));
    }
  }
  return result;
}

function fromBytes(datatype, arrayBuffer) {
  if (datatype === 'BYTES') {
    const view = new DataView(arrayBuffer);
    const items = [];
    for (let at = 0; at + 4 <= view.byteLength;) {
      const len = view.getUint32(at, true);
      items.push(Buffer.from(arrayBuffer, at + 4, len));
      at += 4 + len;
    }
    return items;
  }
  const Type = ARRAY_OF[datatype] ?? Uint8Array;
  return new Type(arrayBuffer);
}
