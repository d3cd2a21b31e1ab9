/** An error answer from pinhole, carrying the API's stable error `code`. */
export class PinholeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "PinholeError";
  }
}

export async function errorFrom(response: Response): Promise<PinholeError> {
  let body: { code?: string; message?: string; field?: string | null } = {};
  try {
    const parsed = (await response.json()) as { error?: typeof body };
    body = parsed.error ?? {};
  } catch {
    // not JSON: keep the status
  }
  const retry = Number(response.headers.get("Retry-After"));
  return new PinholeError(
    response.status,
    body.code ?? `http_${response.status}`,
    body.message ?? response.statusText,
    body.field ?? null,
    Number.isFinite(retry) && retry > 0 ? retry : null,
  );
}
