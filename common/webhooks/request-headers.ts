// Which request headers an endpoint's custom headers may not set: the ones that frame the HTTP message (letting a
// customer set them would break or smuggle requests) and our signature headers (which would let a custom header
// forge or hide a signature).

const framingHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

/** Why this custom header (name, and value when given) may not be used, or undefined if it may. */
export function reservedHeaderReason(name: string, value?: string): string | undefined {
  const lower = name.toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(lower)) return `"${name}" is not a valid header name`;
  if (framingHeaders.has(lower)) return `"${name}" is set by the sender and cannot be overridden`;
  if (lower.startsWith('webhook-')) return `"${name}" is reserved for Standard Webhooks signing headers`;
  // Visible ASCII, spaces and tabs only: a CR or LF would let a value start a new header or request.
  if (value !== undefined && !/^[\t\x20-\x7e]*$/.test(value)) return `the value of "${name}" has a forbidden character`;
  return undefined;
}
