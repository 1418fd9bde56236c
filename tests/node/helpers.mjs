// Shared by the node:test files: paths, the tiny tensor model, and a real `ptjs serve`.
//   PTJS_BIN         the ptjs executable (required)
//   PTJS_SOURCE_DIR  the repository (default: two folders up from here)
//   PTJS_GEN_DIR     where generated fixtures go (default: $TMPDIR/ptjs-node-gen)
//   PTJS_PYTHON      Python with torch (default: /usr/bin/python3)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.PTJS_SOURCE_DIR || path.resolve(here, '../..');
export const GEN_DIR = path.join(process.env.PTJS_GEN_DIR || path.join(tmpdir(), 'ptjs-node-gen'), 'node');
export const PTJS_BIN = process.env.PTJS_BIN;
export const CLIENT = path.join(SOURCE_DIR, 'apps/node/index.js');
export const DIGITS_MODEL = path.join(SOURCE_DIR, 'configs/digits/model.pt');

/** One PNG per digit that has one: [{label, file}], sorted. */
export function digitImages() {
  const root = path.join(SOURCE_DIR, 'configs/digits/images');
  return readdirSync(root).sort().flatMap((label) => {
    const files = readdirSync(path.join(root, label)).filter((f) => f.endsWith('.png')).sort();
    return files.length ? [{ label, file: path.join(root, label, files[0]) }] : [];
  });
}

/** Writes (once) GEN_DIR/tiny.pt, Linear(4, 3) with an embedded tensor spec; returns it and its weights. */
export function tinyModel() {
  const model = path.join(GEN_DIR, 'tiny.pt');
  if (!existsSync(model)) {
    const python = process.env.PTJS_PYTHON || '/usr/bin/python3';
    const r = spawnSync(python, [path.join(here, 'make_tiny_model.py'), GEN_DIR], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`make_tiny_model.py failed (${r.status}): ${r.stderr || r.error}`);
  }
  const { weight, bias } = JSON.parse(readFileSync(path.join(GEN_DIR, 'tiny.json'), 'utf8'));
  return { model, weight, bias };
}

/** y = x W^T + b for a flat row-major [n, 4] input, in float64. */
export function linear(x, { weight, bias }) {
  const n = x.length / 4;
  const y = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) {
      let s = bias[j];
      for (let k = 0; k < 4; k++) s += x[i * 4 + k] * weight[j][k];
      y[i * 3 + j] = s;
    }
  }
  return y;
}

/**
 * Starts `ptjs serve --port 0 ...args`, waits for "listening on http://HOST:PORT" on stderr
 * and then for /v2/health/ready. Returns {url, proc, log(), stop()}; stop() sends SIGTERM and
 * resolves to the exit code.
 */
export async function startServer(args, { readyPath = '/v2/health/ready', timeoutMs = 120_000 } = {}) {
  if (!PTJS_BIN) throw new Error('set PTJS_BIN to the ptjs executable');
  const proc = spawn(PTJS_BIN, ['serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ptjs serve did not say where it listens:\n${log}`)), timeoutMs);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      // The whole line: a chunk may end inside it (before the port, or within it).
      const m = log.match(/listening on (https?:\/\/[^\s/]+)\r?\n/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`ptjs serve exited (${code}):\n${log}`)); });
  });
  const server = {
    url,
    proc,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const res = await fetch(url + readyPath, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.status === 200) return server;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = `${err.cause?.code ?? err.name}: ${err.cause?.message ?? err.message}`;  // not accepting yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      await server.stop();
      throw new Error(`ptjs serve did not become ready at ${url}${readyPath} (last: ${last}):\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `ptjs run --model M --input FILE` and returns its one JSONL record. */
export function runRecord(model, file) {
  const r = spawnSync(PTJS_BIN, ['run', '--model', model, '--input', file, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ptjs run failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n')[0]);
}
