/// <reference types="node" />
import type { Readable } from 'node:stream';

/** Above this many bytes of tensor data, infer() switches to the binary-data extension. */
export const BINARY_THRESHOLD: number;

export type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP32' | 'FP64' | 'BYTES';

export type TypedArray =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array | BigUint64Array;

/** A v2 input tensor. Without `datatype`, it follows from the typed array (Float32Array -> FP32, ...). */
export type InferInput =
  | { name: string; shape: number[]; data: TypedArray; datatype?: Datatype }
  | { name: string; shape: number[]; datatype: Datatype; data: ArrayLike<number | bigint | boolean> | unknown[] }
  | { name: string; shape: number[]; datatype: 'BYTES'; data: Array<string | Uint8Array> | Uint8Array };

export interface InferOutput {
  name: string;
  shape: number[];
  datatype: Datatype | string;
  /** A typed array of the datatype (BOOL -> Uint8Array); BYTES -> Buffers (binary) or strings (JSON). */
  data: TypedArray | Array<string | Buffer>;
  parameters?: Record<string, unknown>;
}

/** Where the server spent a request's time (its Server-Timing header), in milliseconds. */
export interface ServerTiming {
  /** Receiving the request body. */
  read?: number;
  decode?: number;
  preprocess?: number;
  queue?: number;
  forward?: number;
  total?: number;
  [stage: string]: number | undefined;
}

/** Parses a Server-Timing header into stage -> milliseconds. */
export function parseServerTiming(header: string | null | undefined): ServerTiming;

export interface InferResult {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: InferOutput[];
  parameters?: Record<string, unknown>;
  /** The response's Server-Timing (non-enumerable: not part of the JSON). */
  readonly serverTiming?: ServerTiming;
}

export interface TensorMetadata {
  name: string;
  datatype: Datatype | string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  [key: string]: unknown;
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
  [key: string]: unknown;
}

/** One class of a classification record. */
export interface Prediction {
  index: number;
  label?: string;
  score: number;
}

export interface ClientOptions {
  /** Default http://127.0.0.1:8080. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <apiKey>` (ptjs serve --api-key). */
  apiKey?: string;
  /** Per-request time limit (whole request, body included); rejects with a TimeoutError. */
  timeoutMs?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface InferOptions extends RequestOptions {
  /** Force (true) or forbid (false) the binary-data extension; default: binary above 64 KiB of input. */
  binary?: boolean;
  /** Outputs to return, by name (default: all). */
  outputs?: Array<string | { name: string; parameters?: Record<string, unknown> }>;
}

export type ImageInput =
  | Uint8Array | ArrayBuffer | ArrayBufferView | Blob | string
  | Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** An HTTP error from the server (status >= 400) or, with status 0, an unreachable server. */
export class PtjsError extends Error {
  name: 'PtjsError';
  /** The HTTP status, or 0 when no response came. */
  status: number;
  /** The response body: parsed JSON ({error: "..."}) or text; null without a response. */
  body: unknown;
  constructor(message: string, options?: { status?: number; body?: unknown; cause?: unknown });
}

export class PtjsClient {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;

  /**
   * POST /predictions/{model} with the encoded image; resolves to the server's records, with the
   * response's Server-Timing as a non-enumerable `serverTiming`.
   */
  predict<T = { predictions?: Prediction[]; outputs?: InferOutput[]; [key: string]: unknown }>(
    model: string, image: ImageInput, options?: RequestOptions): Promise<T & { readonly serverTiming?: ServerTiming }>;
  /** POST /v2/models/{model}/infer. */
  infer(model: string, inputs: InferInput[], options?: InferOptions): Promise<InferResult>;
  /** GET /v2/health/ready, or /v2/models/{model}/ready: true (200) or false (503). */
  ready(model?: string | null, options?: RequestOptions): Promise<boolean>;
  /** GET /v2/health/live: true (200) or false (503). */
  live(options?: RequestOptions): Promise<boolean>;
  /** GET /v2/models/{model}. */
  metadata(model: string, options?: RequestOptions): Promise<ModelMetadata>;
  /** GET /v2. */
  serverMetadata(options?: RequestOptions): Promise<ServerMetadata>;
}
