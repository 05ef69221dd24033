// The GraphQL transport of every LinearClient Switchboard makes. @linear/sdk posts `{ query, variables }` only;
// Linear asks API clients to name their operations and to send that name as `operationName` (its request logs,
// complexity and rate-limit reports are kept per operation, and a server must otherwise parse the document to
// choose one). This client sends the same request with the name of the document's operation added, and fails
// exactly as the SDK's does (the same LinearError classes, from the same response), so callers see no difference.
import type { LinearClient, LinearClientOptions, LinearRawResponse } from '@linear/sdk';
import { onFirstUse } from '../lazy-module.ts';
import { loadLinearSdk } from './sdk.ts';

/** The name of the first operation in a GraphQL document (`query SwitchboardIssue($id: …)` → SwitchboardIssue). */
export function operationNameOf(query: string): string | undefined {
  // Comments may precede the operation; names are GraphQL names (letters, digits, underscores).
  const source = query.replace(/#[^\n\r]*/g, '');
  return /(?:^|[\s}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(source)?.[1];
}

/** The SDK and the client class that extends its transport, defined once the SDK is loaded. */
const loadClasses = onFirstUse(async () => {
  const { GraphQLClientError, LinearClient, LinearGraphQLClient, parseLinearError } = await loadLinearSdk();

  class NamedOperationsClient extends LinearGraphQLClient {
    readonly #url: string;
    readonly #options: RequestInit;

    constructor(url: string, options: RequestInit) {
      super(url, options);
      this.#url = url;
      this.#options = options;
    }

    override async rawRequest<Data, Variables extends Record<string, unknown>>(
      query: string,
      variables?: Variables,
      requestHeaders?: RequestInit['headers'],
    ): Promise<LinearRawResponse<Data>> {
      const { headers, ...others } = this.#options;
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...plain(headers), ...plain(requestHeaders) },
        body: JSON.stringify({ query, variables, operationName: operationNameOf(query) }),
        ...others,
      });
      const contentType = response.headers.get('Content-Type');
      const result = contentType?.startsWith('application/json')
        ? ((await response.json()) as LinearRawResponse<Data> & { errors?: unknown[] })
        : await response.text();
      if (typeof result !== 'string' && response.ok && !result.errors && result.data)
        return { ...result, headers: response.headers, status: response.status };
      throw parseLinearError(
        new GraphQLClientError(
          {
            ...(typeof result === 'string' ? { error: result } : result),
            status: response.status,
            headers: response.headers,
          } as LinearRawResponse<Data>,
          { query, variables },
        ),
      );
    }

    override async request<Data, Variables extends Record<string, unknown>>(
      document: string,
      variables?: Variables,
      requestHeaders?: RequestInit['headers'],
    ): Promise<Data> {
      // The SDK's typed methods come through here with their own (named) documents.
      return (await this.rawRequest<Data, Variables>(document, variables, requestHeaders)).data as Data;
    }
  }

  return { LinearClient, NamedOperationsClient };
});

function plain(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return headers as Record<string, string>;
}

/** A LinearClient (credential, API URL, abort signal as the SDK takes them) that names its operations. */
export async function newLinearClient(options: LinearClientOptions): Promise<LinearClient> {
  const { LinearClient, NamedOperationsClient } = await loadClasses();
  const client = new LinearClient(options);
  client.client = new NamedOperationsClient(client.options.apiUrl, client.options as RequestInit);
  return client;
}
