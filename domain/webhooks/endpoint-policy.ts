// The checks an endpoint's URL and custom headers must pass when they are saved. The same URL policy runs again
// before every delivery, and hostnames are checked after DNS resolution at connect time; refusing here only gives
// the admin the error at the moment they can fix it.

import { checkEndpointUrl, parseAllowList } from '../../activities/http/ssrf-guard.ts';
import { type ErrorDetail, validationFailed } from '../../common/errors.ts';
import { reservedHeaderReason } from '../../common/webhooks/request-headers.ts';

/** The deployment's URL policy: the webhooks module's settings (packages/integrations/webhooks/settings.ts). */
export type EndpointPolicy = { allowHttp: boolean; allowCidrs: readonly string[] };

/** Throws a 422 naming `url` or `headers.<Name>` for every problem found, so one answer lists them all. */
export function assertEndpointAllowed(
  policy: EndpointPolicy,
  input: { url?: string; headers?: Record<string, string> },
) {
  const details: ErrorDetail[] = [];
  if (input.url !== undefined) {
    const verdict = checkEndpointUrl(input.url, {
      allowHttp: policy.allowHttp,
      allowList: parseAllowList(policy.allowCidrs),
    });
    if (!verdict.ok) details.push({ path: 'url', message: verdict.reason });
  }
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const reason = reservedHeaderReason(name, value);
    if (reason) details.push({ path: `headers.${name}`, message: reason });
    else if (seen.has(name.toLowerCase()))
      details.push({ path: `headers.${name}`, message: `"${name}" is given twice (header names ignore case)` });
    seen.add(name.toLowerCase());
  }
  if (details.length > 0)
    throw validationFailed(`invalid endpoint: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
}
