// Framework loaders: a Next.js `next/image` custom loader and a plain srcset helper.

import { imageUrl, type TransformOptions } from "./transform.js";

export interface LoaderConfig {
  /** The pinhole server; defaults to NEXT_PUBLIC_PINHOLE_URL. */
  baseUrl?: string;
  /** Output format for every width (default: as stored). */
  format?: string;
}

export interface ImageLoaderProps {
  src: string;
  width: number;
  quality?: number;
}

function split(src: string, baseUrl: string | undefined): { base: string; id: string } {
  const match = /^(https?:\/\/.+?)\/v2\/images\/([^/?#]+)/.exec(src);
  if (match) return { base: match[1]!, id: decodeURIComponent(match[2]!) };
  const env = typeof process !== "undefined" ? process.env.NEXT_PUBLIC_PINHOLE_URL : undefined;
  const base = baseUrl ?? env;
  if (!base) throw new TypeError("pinholeLoader needs a baseUrl (or NEXT_PUBLIC_PINHOLE_URL) for an image id");
  return { base, id: src };
}

/** A `next/image` loader for `src` an image id or a pinhole image URL: `loader={createPinholeLoader({...})}`. */
export function createPinholeLoader(config: LoaderConfig = {}): (props: ImageLoaderProps) => string {
  return ({ src, width, quality }) => {
    const { base, id } = split(src, config.baseUrl);
    const options: TransformOptions = { w: width };
    if (quality !== undefined) options.q = quality;
    if (config.format) options.format = config.format;
    return imageUrl(base, id, options);
  };
}

/** The default loader (server from NEXT_PUBLIC_PINHOLE_URL, or `src` a full pinhole image URL). */
export const pinholeLoader = createPinholeLoader();

/** `srcset` for an image at several widths: "…?w=320 320w, …?w=640 640w". */
export function srcset(baseUrl: string, imageId: string, widths: number[], options: Omit<TransformOptions, "w"> = {}): string {
  return [...new Set(widths)].sort((a, b) => a - b).map((w) => `${imageUrl(baseUrl, imageId, { ...options, w })} ${w}w`).join(", ");
}
