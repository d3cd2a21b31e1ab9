// pinhole's TypeScript SDK: the v2 API typed from its OpenAPI document (generated.ts), uploads with progress,
// cursor iteration and variant URLs (uploads: upload.ts). Runs wherever `fetch` does (browsers, Node 18+). URL signing is Node only:
// import it from "@pinhole/client/node".

import { OPERATIONS, type ImagePublic, type OperationName, type Operations } from "./generated.js";
import { PinholeError, errorFrom } from "./errors.js";
import { imageUrl, type TransformOptions } from "./transform.js";
import { TUS_THRESHOLD, canXhr, countedBody, isNode, tusUpload, xhrUpload, type Progress } from "./upload.js";

export * from "./generated.js";
export * from "./errors.js";
export * from "./transform.js";
export { TUS_CHUNK, TUS_THRESHOLD, TUS_VERSION, tusMetadata, type Progress } from "./upload.js";

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  token?: string;
  userId?: string;
  fetch?: typeof fetch;
}

export interface CallArgs<K extends OperationName> {
  path?: Record<string, string>;
  query?: Operations[K]["query"];
  body?: Operations[K]["body"];
}

export interface UploadOptions {
  filename?: string;
  tags?: string[];
  private?: boolean;
  album?: string;
  description?: string;
  /** Called with increasing byte counts as the file goes out (see `upload`). */
  onProgress?: (sent: number, total: number) => void;
  /** tus even for a small file (true), or never (false); default: files of TUS_THRESHOLD bytes or more. */
  resumable?: boolean;
  /** Bytes per tus PATCH (default 8 MiB); progress is reported after each. */
  chunkSize?: number;
  /** Continue the tus upload at this URL from the server's offset. */
  resumeUrl?: string;
  /** Called with a new tus upload's URL, to pass back as `resumeUrl` after an interruption. */
  onResumable?: (url: string) => void;
}

/** `progress` called only when the count grows (the transports may repeat the last count). */
function increasing(progress: Progress): Progress {
  let last = -1;
  return (sent, total) => {
    if (sent <= last) return;
    last = sent;
    progress(sent, total);
  };
}

export class PinholeClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.headers = { Accept: "application/json" };
    if (options.apiKey) this.headers["X-API-Key"] = options.apiKey;
    if (options.token) this.headers.Authorization = `Bearer ${options.token}`;
    if (options.userId) this.headers["X-User-Id"] = options.userId;
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Any v2 operation by name (the operationId without `v2_`), typed from the OpenAPI document. */
  async call<K extends OperationName>(name: K, args: CallArgs<K> = {}): Promise<Operations[K]["result"]> {
    const operation = OPERATIONS[name];
    let path: string = operation.path;
    for (const param of operation.pathParams) {
      const value = args.path?.[param];
      if (value === undefined) throw new TypeError(`${name} needs the path parameter ${param}`);
      path = path.replace(`{${param}}`, encodeURIComponent(value));
    }
    const init: RequestInit = { method: operation.method, headers: { ...this.headers } };
    if (args.body instanceof FormData) init.body = args.body;
    else if (args.body !== undefined) {
      init.body = JSON.stringify(args.body);
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
    return (await this.send(path, args.query as Record<string, unknown> | undefined, init)) as Operations[K]["result"];
  }

  private async send(path: string, query: Record<string, unknown> | undefined, init: RequestInit): Promise<unknown> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null) search.set(key, String(value));
    const url = `${this.baseUrl}${path}${search.size ? `?${search}` : ""}`;
    const response = await this.fetch(url, init);
    if (!response.ok) throw await errorFrom(response);
    if (response.headers.get("X-Pinhole-Fallback")) {
      // A missing image answers a placeholder (200) so pages show no broken image; code asked for that image.
      throw new PinholeError(404, "image_not_found", "No such image: the server answered its fallback placeholder.");
    }
    if (response.status === 204) return undefined;
    if ((response.headers.get("content-type") ?? "").startsWith("application/json")) return response.json();
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Whether the server takes resumable (tus) uploads: OPTIONS /v2/uploads answers Tus-Version. */
  async supportsTus(): Promise<boolean> {
    try {
      const response = await this.fetch(`${this.baseUrl}/v2/uploads`, { method: "OPTIONS", headers: this.headers });
      return response.headers.has("Tus-Version");
    } catch {
      return false;
    }
  }

  /** Upload one image (a Blob or File); resolves to the stored image.
   *
   * Progress is real everywhere: tus reports each chunk the server confirmed, browsers report XMLHttpRequest's
   * upload progress, Node counts the request body as fetch sends it. Files of `TUS_THRESHOLD` bytes or more go
   * through tus when the server offers it (or always with `resumable: true`); `onResumable` gets the upload's URL,
   * which `resumeUrl` continues from the server's offset. */
  async upload(file: Blob, options: UploadOptions = {}): Promise<ImagePublic> {
    const name = options.filename ?? ((file as File).name || "upload");
    const fields: Record<string, string> = { isPrivate: options.private ? "true" : "false" };
    if (options.tags?.length) fields.tags = options.tags.join(",");
    if (options.album) fields.albumId = options.album;
    if (options.description) fields.description = options.description;
    const onProgress = options.onProgress ? increasing(options.onProgress) : undefined;
    const transport = { baseUrl: this.baseUrl, headers: this.headers, fetch: this.fetch };
    const wanted = options.resumable ?? (file.size >= TUS_THRESHOLD || options.resumeUrl !== undefined);
    if (wanted && (await this.supportsTus())) {
      const tusOptions = { fields: { filename: name, ...fields }, chunkSize: options.chunkSize, resumeUrl: options.resumeUrl, onResumable: options.onResumable, onProgress };
      return (await tusUpload(transport, file, tusOptions)) as ImagePublic;
    }
    const form = new FormData();
    form.append("file", file, name);
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    if (onProgress && canXhr()) return (await xhrUpload(transport, "/v2/images", form, file.size, onProgress)) as ImagePublic;
    const init: RequestInit & { duplex?: "half" } = { method: "POST", headers: { ...this.headers } };
    if (onProgress && isNode()) {
      const counted = countedBody(form, file.size, onProgress);
      init.body = counted.body;
      init.duplex = "half";
      (init.headers as Record<string, string>)["Content-Type"] = counted.type;
    } else {
      init.body = form;
    }
    const image = (await this.send("/v2/images", undefined, init)) as ImagePublic;
    onProgress?.(file.size, file.size);
    return image;
  }

  /** Every image the filters match, page after page (cursor paging). */
  async *iterImages(query: Operations["images_list"]["query"] = {}): AsyncGenerator<ImagePublic> {
    let cursor: string | null | undefined;
    for (;;) {
      const page = await this.call("images_list", { query: { ...query, cursor: cursor ?? undefined } });
      yield* page.data;
      cursor = page.pagination.nextCursor;
      if (!cursor || page.data.length === 0) return;
    }
  }

  /** A variant's URL (unsigned; sign in Node with `signedUrl` from "@pinhole/client/node"). */
  url(imageId: string, options: TransformOptions = {}): string {
    return imageUrl(this.baseUrl, imageId, options);
  }
}
