// URL signing, Node only (the signing key must never reach a browser). The MAC the server checks (pinhole's
// security/signing.py, docs/security.md): HKDF-SHA256(secret, info "pinhole/url-signature/v1"), then HMAC-SHA256
// over the length-prefixed key id, image id, canonical options and expiry; sent as `sig=<id>.<base64url>`, `exp`.

import { createHmac } from "node:crypto";
import { canonical, imageUrl, normalize, type TransformOptions } from "./transform.js";

function hkdf(secret: Buffer, info: Buffer): Buffer {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(secret).digest();
  return createHmac("sha256", prk).update(Buffer.concat([info, Buffer.from([1])])).digest();
}

export class Signer {
  readonly keyId: string;
  private readonly key: Buffer;

  /** `new Signer("k1:secret")`, the server's PINHOLE_SIGNING__KEYS form. */
  constructor(signingKey: string) {
    const colon = signingKey.indexOf(":");
    if (colon < 0) throw new TypeError("a signing key looks like `id:secret`");
    this.keyId = signingKey.slice(0, colon);
    const secret = Buffer.from(signingKey.slice(colon + 1));
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(this.keyId)) throw new TypeError("a signing key id is 1-32 of A-Z a-z 0-9 _ -");
    if (secret.length < 32) throw new TypeError("a signing key is at least 32 bytes");
    this.key = hkdf(secret, Buffer.from("pinhole/url-signature/v1"));
  }

  sign(imageId: string, options: TransformOptions = {}, expiresAt?: number): Record<string, string> {
    const fields = [this.keyId, imageId, canonical(normalize(options)), expiresAt === undefined ? "" : String(expiresAt)];
    const message = Buffer.concat(fields.map((field) => {
      const raw = Buffer.from(field);
      return Buffer.concat([Buffer.from(`${raw.length}:`), raw, Buffer.from(",")]);
    }));
    const mac = createHmac("sha256", this.key).update(message).digest("base64url");
    return expiresAt === undefined ? { sig: `${this.keyId}.${mac}` } : { sig: `${this.keyId}.${mac}`, exp: String(expiresAt) };
  }
}

/** A signed variant URL; `expiresIn` seconds from now when given. */
export function signedUrl(baseUrl: string, signingKey: string | Signer, imageId: string, options: TransformOptions = {}, expiresIn?: number): string {
  const signer = typeof signingKey === "string" ? new Signer(signingKey) : signingKey;
  const expiresAt = expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn;
  return imageUrl(baseUrl, imageId, options, signer.sign(imageId, options, expiresAt));
}
