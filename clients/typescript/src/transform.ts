// Variant options normalised as the server normalises them (pinhole's imaging/options.py), so the URL this SDK
// builds and the canonical string it signs are the server's: `jpg` is `jpeg`; `fit` only matters with both sides;
// `enlarge` needs a size; quality is dropped for formats without one; `thumb` is the thumbnail box with cover.

export type Fit = "inside" | "cover" | "fill";

export interface TransformOptions {
  w?: number;
  h?: number;
  q?: number;
  format?: string;
  fit?: Fit;
  enlarge?: boolean;
  thumb?: boolean;
}

const FORMATS: Record<string, boolean> = { jpeg: true, png: false, webp: true, gif: false, avif: true, heic: false };
const ALIASES: Record<string, string> = { jpg: "jpeg", heif: "heic" };
export const THUMBNAIL_SIZE = 256;

export interface Transform {
  width: number | null;
  height: number | null;
  fit: Fit;
  quality: number | null;
  format: string | null;
  enlarge: boolean;
}

export function normalize(options: TransformOptions = {}, thumbnailSize = THUMBNAIL_SIZE): Transform {
  let { w, h, fit } = options;
  if (options.thumb) {
    w = w ?? thumbnailSize;
    h = h ?? thumbnailSize;
    fit = fit ?? "cover";
  }
  for (const [name, value] of [["w", w], ["h", h]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new RangeError(`${name} must be a whole number of at least 1`);
  }
  if (options.q !== undefined && !(options.q >= 1 && options.q <= 100)) throw new RangeError("q must be between 1 and 100");
  let format: string | null = null;
  if (options.format !== undefined) {
    const wanted = options.format.trim().toLowerCase();
    format = ALIASES[wanted] ?? wanted;
    if (!(format in FORMATS)) throw new RangeError(`format must be one of ${Object.keys(FORMATS).sort().join(", ")}`);
  }
  const chosen = (fit ?? "inside").toLowerCase() as Fit;
  if (!["inside", "cover", "fill"].includes(chosen)) throw new RangeError("fit must be one of inside, cover, fill");
  const both = w !== undefined && h !== undefined;
  return {
    width: w ?? null,
    height: h ?? null,
    fit: both ? chosen : "inside",
    quality: format !== null && !FORMATS[format] ? null : options.q ?? null,
    format,
    enlarge: Boolean(options.enlarge) && (w !== undefined || h !== undefined),
  };
}

/** The string the server keys variants by and signatures cover, e.g. `w800-h0-inside-q0-webp-e0`. */
export function canonical(t: Transform): string {
  return `w${t.width ?? 0}-h${t.height ?? 0}-${t.fit}-q${t.quality ?? 0}-${t.format ?? "auto"}-e${t.enlarge ? 1 : 0}`;
}

export function transformQuery(t: Transform): Record<string, string> {
  const query: Record<string, string> = {};
  if (t.width !== null) query.w = String(t.width);
  if (t.height !== null) query.h = String(t.height);
  if (t.quality !== null) query.q = String(t.quality);
  if (t.format !== null) query.format = t.format;
  if (t.fit !== "inside") query.fit = t.fit;
  if (t.enlarge) query.enlarge = "true";
  return query;
}

/** `{base}/v2/images/{id}?{options}[&sig&exp]`. */
export function imageUrl(baseUrl: string, imageId: string, options: TransformOptions = {}, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams({ ...transformQuery(normalize(options)), ...extra }).toString();
  const url = `${baseUrl.replace(/\/+$/, "")}/v2/images/${encodeURIComponent(imageId)}`;
  return query ? `${url}?${query}` : url;
}
