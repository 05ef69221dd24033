// Config and credentials are typed as JSON text; they must be a JSON object before they go to the API,
// which then checks them against the integration type's own schema.

export type JsonObjectResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

export function parseJsonObject(text: string, what: string): JsonObjectResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `${what} is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `${what} must be a JSON object, like {"key": "value"}` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
