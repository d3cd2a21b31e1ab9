// Runs with `node --test dist/test/` against a real pinhole server that tests/clients/test_typescript_sdk.py starts:
// PINHOLE_URL, PINHOLE_API_KEY, PINHOLE_SIGNING_KEY (the server's), PINHOLE_TEST_IMAGE (a 640x480 JPEG),
// PINHOLE_TEST_BIG_IMAGE (a JPEG of several MB, its size in PINHOLE_TEST_BIG_SIZE as WxH).

import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { PinholeClient, PinholeError, canonical, normalize } from "../index.js";
import { createPinholeLoader, srcset } from "../loaders.js";
import { signedUrl } from "../node.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through tests/clients/test_typescript_sdk.py`);
  return value;
}

const baseUrl = env("PINHOLE_URL");
const client = new PinholeClient({ baseUrl, apiKey: env("PINHOLE_API_KEY") });
const photo = new Blob([readFileSync(env("PINHOLE_TEST_IMAGE"))], { type: "image/jpeg" });

async function dimensions(url: string): Promise<{ status: number; type: string | null; width?: number }> {
  const response = await fetch(url);
  const bytes = new Uint8Array(await response.arrayBuffer());
  let width: number | undefined;
  if (response.headers.get("content-type") === "image/webp" && bytes.length > 30) {
    width = (bytes[26]! | (bytes[27]! << 8)) & 0x3fff; // VP8 frame header: 14-bit width
  }
  return { status: response.status, type: response.headers.get("content-type"), width };
}

test("upload with progress, list every page, update, typed errors", async () => {
  const seen: Array<[number, number]> = [];
  const image = await client.upload(photo, { filename: "photo.jpg", tags: ["ts"], onProgress: (s, t) => seen.push([s, t]) });
  assert.equal(image.width, 640);
  assert.deepEqual(image.tags, ["ts"]);
  assert.ok(seen.length > 0);
  assert.equal(seen.at(-1)![0], seen.at(-1)![1]);
  for (let n = 0; n < 3; n++) await client.upload(photo, { filename: `p${n}.jpg`, tags: ["ts-page"] });
  const paged: string[] = [];
  for await (const found of client.iterImages({ tag: "ts-page", limit: 2 })) paged.push(found.id);
  assert.equal(paged.length, 3);
  assert.equal(new Set(paged).size, 3);
  const updated = await client.call("images_update", { path: { image_id: image.id }, body: { description: "from ts" } });
  assert.equal(updated.description, "from ts");
  await client.call("images_delete", { path: { image_id: image.id } });
  await assert.rejects(
    client.call("images_update", { path: { image_id: image.id }, body: { description: "gone" } }),
    (error: unknown) => error instanceof PinholeError && error.status === 404 && error.code === "image_not_found",
  );
  const stranger = new PinholeClient({ baseUrl, apiKey: "ph_wrong" });
  await assert.rejects(stranger.call("images_list"), (error: unknown) => error instanceof PinholeError && error.status === 401);
});

test("signed URLs: the server serves the right key's and refuses another key's", async () => {
  const image = await client.upload(photo, { filename: "signed.jpg" });
  const good = signedUrl(baseUrl, env("PINHOLE_SIGNING_KEY"), image.id, { w: 320, format: "webp" }, 600);
  const served = await dimensions(good);
  assert.equal(served.status, 200);
  assert.equal(served.type, "image/webp");
  assert.equal(served.width, 320);
  const forged = signedUrl(baseUrl, "k1:" + "x".repeat(40), image.id, { w: 320, format: "webp" });
  assert.ok([401, 403].includes((await dimensions(forged)).status));
  assert.ok([401, 403].includes((await dimensions(client.url(image.id, { w: 320, format: "webp" }))).status));
});

test("next/image loader and srcset build the server's variant URLs", async () => {
  const image = await client.upload(photo, { filename: "loader.jpg" });
  const loader = createPinholeLoader({ baseUrl, format: "webp" });
  const url = loader({ src: image.id, width: 480, quality: 70 });
  assert.equal(url, `${baseUrl}/v2/images/${image.id}?w=480&q=70&format=webp`);
  assert.equal(createPinholeLoader()({ src: image.url, width: 100 }), `${baseUrl}/v2/images/${image.id}?w=100`);
  const set = srcset(baseUrl, image.id, [640, 320], { format: "jpg" });
  assert.equal(set, `${baseUrl}/v2/images/${image.id}?w=320&format=jpeg 320w, ${baseUrl}/v2/images/${image.id}?w=640&format=jpeg 640w`);
  const owner = await fetch(url, { headers: { "X-API-Key": env("PINHOLE_API_KEY") } });
  assert.equal(owner.status, 200);
  assert.equal(owner.headers.get("content-type"), "image/webp");
});

test("the canonical string is the server's", () => {
  assert.equal(canonical(normalize({ w: 800, format: "jpg" })), "w800-h0-inside-q0-jpeg-e0");
  assert.equal(canonical(normalize({ h: 300, fit: "cover", enlarge: true })), "w0-h300-inside-q0-auto-e1");
  assert.equal(canonical(normalize({ thumb: true })), "w256-h256-cover-q0-auto-e0");
  assert.equal(canonical(normalize({ w: 100, q: 50, format: "png" })), "w100-h0-inside-q0-png-e0");
});

const big = new Blob([readFileSync(env("PINHOLE_TEST_BIG_IMAGE"))], { type: "image/jpeg" });
const [bigWidth, bigHeight] = env("PINHOLE_TEST_BIG_SIZE").split("x").map(Number);

function assertIncreasing(seen: Array<[number, number]>, total: number, atLeast: number): void {
  assert.ok(seen.length >= atLeast, `${seen.length} progress events: ${JSON.stringify(seen)}`);
  for (let n = 1; n < seen.length; n++) assert.ok(seen[n]![0] > seen[n - 1]![0], `not increasing at ${n}: ${JSON.stringify(seen)}`);
  assert.ok(seen.every(([, t]) => t === total));
  assert.ok(seen[0]![0] < total, "the first event came before the whole file was sent");
  assert.equal(seen.at(-1)![0], total);
}

test("Node upload of a multi-MB file reports progress as the body is sent", async () => {
  assert.ok(big.size > 2 * 1024 * 1024, `the big image is ${big.size} bytes`);
  const seen: Array<[number, number]> = [];
  const image = await client.upload(big, { filename: "big.jpg", resumable: false, onProgress: (s, t) => seen.push([s, t]) });
  assert.equal(image.width, bigWidth);
  assert.equal(image.height, bigHeight);
  assertIncreasing(seen, big.size, 5);
});

test("tus upload: progress per chunk, and an interrupted upload resumes from the server's offset", async () => {
  assert.ok(await client.supportsTus());
  const chunkSize = 512 * 1024;
  const urls: string[] = [];
  const first: Array<[number, number]> = [];
  await assert.rejects(
    client.upload(big, {
      filename: "tus.jpg",
      resumable: true,
      chunkSize,
      onResumable: (url) => urls.push(url),
      onProgress: (s, t) => {
        first.push([s, t]);
        if (s >= 2 * chunkSize) throw new Error("connection lost");
      },
    }),
    /connection lost/,
  );
  assert.deepEqual(first.map(([s]) => s), [chunkSize, 2 * chunkSize]);
  assert.equal(urls.length, 1);
  const seen: Array<[number, number]> = [];
  const image = await client.upload(big, { filename: "tus.jpg", chunkSize, resumeUrl: urls[0], onProgress: (s, t) => seen.push([s, t]) });
  assert.equal(image.width, bigWidth);
  assert.equal(seen[0]![0], 3 * chunkSize); // resumed: the first two chunks were not sent again
  assertIncreasing(seen, big.size, Math.ceil(big.size / chunkSize) - 3);
});
