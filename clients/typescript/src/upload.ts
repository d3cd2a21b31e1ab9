// Sending an upload with real progress wherever the SDK runs:
// - tus (resumable, per-chunk progress) when asked for, or for large files when the server offers it;
// - XMLHttpRequest in browsers, whose `upload.onprogress` reports bytes as the network takes them;
// - a counted request stream in Node, whose fetch pulls the multipart body as it sends it;
// - plain fetch elsewhere (progress once, at the end).

import { errorFrom } from "./errors.js";

export type Progress = (sent: number, total: number) => void;

export const TUS_VERSION = "1.0.0";
export const TUS_THRESHOLD = 64 * 1024 * 1024;
export const TUS_CHUNK = 8 * 1024 * 1024;

export interface Transport {
  baseUrl: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
}

export interface TusOptions {
  fields: Record<string, string>;
  chunkSize?: number;
  resumeUrl?: string;
  onResumable?: (url: string) => void;
  onProgress?: Progress;
}

function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function tusMetadata(fields: Record<string, string>): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== "")
    .map(([key, value]) => `${key} ${base64(value)}`)
    .join(",");
}

async function checked(response: Response): Promise<Response> {
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** Send `file` through tus to /v2/uploads (from `resumeUrl`'s offset when given); resolves to the image JSON. */
export async function tusUpload(transport: Transport, file: Blob, options: TusOptions): Promise<unknown> {
  const headers = { ...transport.headers, "Tus-Resumable": TUS_VERSION };
  const total = file.size;
  let url = options.resumeUrl;
  let offset = 0;
  if (url !== undefined) {
    const found = await transport.fetch(url, { method: "HEAD", headers });
    if (found.status === 404 || found.status === 410) url = undefined; // expired or swept: start again
    else offset = Number((await checked(found)).headers.get("Upload-Offset"));
  }
  if (url === undefined) {
    const create = { ...headers, "Upload-Length": String(total), "Upload-Metadata": tusMetadata(options.fields) };
    const created = await checked(await transport.fetch(`${transport.baseUrl}/v2/uploads`, { method: "POST", headers: create }));
    url = new URL(created.headers.get("Location") ?? "", `${transport.baseUrl}/v2/uploads`).toString();
    options.onResumable?.(url);
  }
  const size = Math.max(1, options.chunkSize ?? TUS_CHUNK);
  while (offset < total) {
    const patch = { ...headers, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" };
    const body = file.slice(offset, Math.min(total, offset + size));
    const sent = await checked(await transport.fetch(url, { method: "PATCH", headers: patch, body }));
    offset = Number(sent.headers.get("Upload-Offset"));
    options.onProgress?.(offset, total);
  }
  return (await checked(await transport.fetch(url, { headers }))).json();
}

/** A browser upload through XMLHttpRequest, reporting `upload.onprogress`. */
export function xhrUpload(transport: Transport, path: string, form: FormData, total: number, onProgress: Progress): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${transport.baseUrl}${path}`);
    for (const [name, value] of Object.entries(transport.headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      // The multipart body is a little larger than the file: report the file's share, never past it.
      const sent = event.lengthComputable && event.total > 0 ? Math.round((event.loaded / event.total) * total) : event.loaded;
      onProgress(Math.min(sent, total), total);
    };
    request.onerror = () => reject(new TypeError("the upload failed: network error"));
    request.onabort = () => reject(new DOMException("the upload was aborted", "AbortError"));
    request.onload = () => {
      const response = new Response(request.status === 204 ? null : request.responseText, {
        status: request.status,
        headers: { "Content-Type": request.getResponseHeader("Content-Type") ?? "", "Retry-After": request.getResponseHeader("Retry-After") ?? "" },
      });
      if (!response.ok) errorFrom(response).then(reject, reject);
      else {
        onProgress(total, total);
        response.json().then(resolve, reject);
      }
    };
    request.send(form);
  });
}

/** Bytes handed to Node's fetch at a time: Response(form) gives a Blob part as one chunk of its whole size. */
export const PIECE_BYTES = 64 * 1024;

/** A Node upload: fetch pulls the multipart body piece by piece as it writes to the socket (a stream with no
 * buffer of its own), and each piece pulled is reported, so progress follows what is sent. */
export function countedBody(form: FormData, total: number, onProgress: Progress): { body: ReadableStream<Uint8Array>; type: string } {
  const encoded = new Response(form);
  const type = encoded.headers.get("content-type") ?? "multipart/form-data";
  const reader = encoded.body!.getReader();
  let pending = new Uint8Array(0);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (pending.byteLength === 0) {
          const next = await reader.read();
          if (next.done) {
            controller.close();
            return;
          }
          pending = next.value;
        }
        const piece = pending.subarray(0, PIECE_BYTES);
        pending = pending.subarray(piece.byteLength);
        controller.enqueue(piece);
        sent += piece.byteLength;
        onProgress(Math.min(sent, total), total);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, type };
}

export const canXhr = (): boolean => typeof XMLHttpRequest !== "undefined";
export const isNode = (): boolean => typeof process !== "undefined" && typeof process.versions?.node === "string";
