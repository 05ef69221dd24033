// Slack's own description of the Web API (OpenAPI 2.0, October 2020), read from the shared folder beside the
// repository, plus the differences the pinned @slack/web-api 8.2.0 types make to it. Every call the fake receives is
// checked against the result. The 1 MB file is parsed once per process, on first use.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const SLACK_DESCRIPTION_PATH = path.resolve(repoRoot, '..', 'shared', 'slack', 'slack_web_openapi_v2.json');

/**
 * How an argument is checked. Form bodies carry every value as a string, so the type says what the string must
 * hold; JSON bodies may carry the value itself. `timestamp` is a message ts such as "1700000000.000100": the
 * description calls it a number, the types a string (a float would lose digits).
 */
export type ArgType = 'string' | 'boolean' | 'integer' | 'number' | 'timestamp' | 'json-array' | 'json-object';

export interface ParamSpec {
  name: string;
  type: ArgType;
  required: boolean;
}

export interface MethodSpec {
  method: string;
  params: Map<string, ParamSpec>;
  /** The description lists application/json among the content types the method accepts. */
  acceptsJson: boolean;
  /** Error codes the description documents for the method (empty when it documents none). */
  errors: string[];
  /** The documented success schema (HTTP 200). */
  successSchema: unknown;
  /** Scopes the description names (2020 names, e.g. `chat:write:bot`); the fake checks current names. */
  describedScopes: string[];
}

/** One place where the 2020 description and the types of @slack/web-api 8.2.0 disagree; the fake follows the types. */
export interface TypeDifference {
  method: string;
  param: string;
  /** What the description says, or null when it lacks the argument. */
  description: { type: ArgType | 'string'; required: boolean } | null;
  /** What the types say, or null when they lack the argument. */
  types: { type: ArgType; required: boolean } | null;
  why: string;
}

/**
 * Values the description declares as plain strings that in fact hold JSON (Slack: "a JSON-based array ... presented
 * as a URL-encoded string"). The types declare them as arrays and objects, which WebClient JSON-encodes.
 */
export const JSON_VALUED: Record<string, 'json-array' | 'json-object'> = {
  blocks: 'json-array',
  attachments: 'json-array',
  view: 'json-object',
  metadata: 'json-object',
  file_ids: 'json-array',
};

/**
 * Arguments accepted by every method although neither the description nor (mostly) the types list them:
 * WebClient adds `team_id` to every call when it was constructed with `teamId`, which Bolt does for each
 * installation, and `token` is the credential (form argument or `Authorization: Bearer`).
 */
export const ALWAYS_ACCEPTED = ['token', 'team_id'] as const;

/** The methods the fake implements. Others in the description are answered as gaps (see README). */
export const MODELLED_METHODS = [
  'auth.test',
  'auth.revoke',
  'oauth.v2.access',
  'chat.postMessage',
  'chat.update',
  'chat.delete',
  'chat.postEphemeral',
  'chat.getPermalink',
  'views.open',
  'views.update',
  'views.publish',
  'users.lookupByEmail',
  'users.info',
  'conversations.list',
  'conversations.info',
  'conversations.join',
  'conversations.history',
  'conversations.replies',
  'conversations.open',
  'team.info',
] as const;
export type ModelledMethod = (typeof MODELLED_METHODS)[number];

const added = (type: ArgType, required = false) => ({ type, required });

/**
 * Where the types of @slack/web-api 8.2.0 differ from the 2020 description, for the modelled methods (team_id and the
 * JSON-valued arguments are covered by the rules above). `description.test.ts` derives this list again from the
 * types with the TypeScript compiler and fails if the two drift apart.
 */
export const TYPE_DIFFERENCES: TypeDifference[] = [
  {
    method: 'oauth.v2.access',
    param: 'client_id',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types; the fake also accepts it as HTTP Basic credentials instead, as Slack does',
  },
  {
    method: 'oauth.v2.access',
    param: 'client_secret',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types; the fake also accepts it as HTTP Basic credentials instead, as Slack does',
  },
  {
    method: 'oauth.v2.access',
    param: 'code',
    description: { type: 'string', required: true },
    types: added('string'),
    why: 'optional in the types because a token refresh sends refresh_token instead; still required for a code grant',
  },
  {
    method: 'oauth.v2.access',
    param: 'grant_type',
    description: null,
    types: added('string'),
    why: 'added with token rotation',
  },
  {
    method: 'oauth.v2.access',
    param: 'refresh_token',
    description: null,
    types: added('string'),
    why: 'added with token rotation',
  },
  {
    method: 'chat.postMessage',
    param: 'as_user',
    description: { type: 'string', required: false },
    types: added('boolean'),
    why: 'a boolean in the types',
  },
  {
    method: 'chat.postMessage',
    param: 'metadata',
    description: null,
    types: added('json-object'),
    why: 'message metadata ({event_type, event_payload}) was added in 2022',
  },
  {
    method: 'chat.postMessage',
    param: 'markdown_text',
    description: null,
    types: added('string'),
    why: 'added in 2025 (markdown instead of text/blocks)',
  },
  {
    method: 'chat.update',
    param: 'as_user',
    description: { type: 'string', required: false },
    types: added('boolean'),
    why: 'a boolean in the types',
  },
  {
    method: 'chat.update',
    param: 'link_names',
    description: { type: 'string', required: false },
    types: added('boolean'),
    why: 'a boolean in the types',
  },
  {
    method: 'chat.update',
    param: 'metadata',
    description: null,
    types: added('json-object'),
    why: 'message metadata was added in 2022',
  },
  {
    method: 'chat.update',
    param: 'file_ids',
    description: null,
    types: added('json-array'),
    why: 'added after 2020',
  },
  {
    method: 'chat.update',
    param: 'reply_broadcast',
    description: null,
    types: added('boolean'),
    why: 'added after 2020 (broadcast an existing reply)',
  },
  {
    method: 'chat.update',
    param: 'markdown_text',
    description: null,
    types: added('string'),
    why: 'added in 2025',
  },
  {
    method: 'chat.delete',
    param: 'channel',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types (Slack answers channel_not_found without it)',
  },
  {
    method: 'chat.delete',
    param: 'ts',
    description: { type: 'number', required: false },
    types: added('timestamp', true),
    why: 'a required string in the types (a float would lose the ts digits)',
  },
  {
    method: 'chat.postEphemeral',
    param: 'markdown_text',
    description: null,
    types: added('string'),
    why: 'added in 2025',
  },
  {
    method: 'views.open',
    param: 'trigger_id',
    description: { type: 'string', required: true },
    types: added('string'),
    why: 'optional in the types: interactivity_pointer may replace it (one of the two is required)',
  },
  {
    method: 'views.open',
    param: 'interactivity_pointer',
    description: null,
    types: added('string'),
    why: 'added for workflow functions; an alternative to trigger_id',
  },
  {
    method: 'views.update',
    param: 'view',
    description: { type: 'string', required: false },
    types: added('json-object', true),
    why: 'required by the types',
  },
  {
    method: 'users.info',
    param: 'user',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types (Slack answers user_not_found without it)',
  },
  {
    method: 'conversations.list',
    param: 'team_id',
    description: null,
    types: added('string'),
    why: 'added for org-wide apps',
  },
  {
    method: 'conversations.info',
    param: 'channel',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types',
  },
  {
    method: 'conversations.join',
    param: 'channel',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types',
  },
  {
    method: 'conversations.history',
    param: 'channel',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types',
  },
  {
    method: 'conversations.history',
    param: 'include_all_metadata',
    description: null,
    types: added('boolean'),
    why: 'message metadata was added in 2022',
  },
  {
    method: 'conversations.history',
    param: 'oldest',
    description: { type: 'number', required: false },
    types: added('timestamp'),
    why: 'a string in the types',
  },
  {
    method: 'conversations.history',
    param: 'latest',
    description: { type: 'number', required: false },
    types: added('timestamp'),
    why: 'a string in the types',
  },
  {
    method: 'conversations.replies',
    param: 'channel',
    description: { type: 'string', required: false },
    types: added('string', true),
    why: 'required by the types',
  },
  {
    method: 'conversations.replies',
    param: 'ts',
    description: { type: 'number', required: false },
    types: added('timestamp', true),
    why: 'a required string in the types',
  },
  {
    method: 'conversations.replies',
    param: 'include_all_metadata',
    description: null,
    types: added('boolean'),
    why: 'message metadata was added in 2022',
  },
  {
    method: 'conversations.replies',
    param: 'oldest',
    description: { type: 'number', required: false },
    types: added('timestamp'),
    why: 'a string in the types',
  },
  {
    method: 'conversations.replies',
    param: 'latest',
    description: { type: 'number', required: false },
    types: added('timestamp'),
    why: 'a string in the types',
  },
  {
    method: 'conversations.open',
    param: 'prevent_creation',
    description: null,
    types: added('boolean'),
    why: 'added after 2020',
  },
  {
    method: 'team.info',
    param: 'domain',
    description: null,
    types: added('string'),
    why: 'added for Enterprise Grid',
  },
];

interface RawParameter {
  in: 'header' | 'query' | 'formData';
  name: string;
  type: 'string' | 'boolean' | 'integer' | 'number';
  required?: boolean;
}
interface RawOperation {
  consumes?: string[];
  parameters?: RawParameter[];
  responses: Record<string, { schema?: { properties?: { error?: { enum?: string[] } } } }>;
  security?: Array<Record<string, string[]>>;
}
interface RawDescription {
  paths: Record<string, Record<string, RawOperation>>;
  definitions: Record<string, unknown>;
}

interface Description {
  methods: Map<string, MethodSpec>;
  definitions: Record<string, unknown>;
}

let cached: Description | undefined;

function load(): Description {
  const raw = JSON.parse(readFileSync(SLACK_DESCRIPTION_PATH, 'utf8')) as RawDescription;
  const methods = new Map<string, MethodSpec>();
  for (const [route, verbs] of Object.entries(raw.paths)) {
    const operation = Object.values(verbs)[0];
    if (!operation) continue;
    const method = route.replace(/^\//, '');
    const params = new Map<string, ParamSpec>();
    for (const p of operation.parameters ?? []) {
      if (p.name === 'token') continue;
      params.set(p.name, { name: p.name, type: JSON_VALUED[p.name] ?? p.type, required: p.required === true });
    }
    for (const difference of TYPE_DIFFERENCES.filter((d) => d.method === method)) {
      if (difference.types === null) params.delete(difference.param);
      else params.set(difference.param, { name: difference.param, ...difference.types });
    }
    methods.set(method, {
      method,
      params,
      acceptsJson: (operation.consumes ?? []).includes('application/json'),
      errors: operation.responses.default?.schema?.properties?.error?.enum ?? [],
      successSchema: operation.responses['200']?.schema,
      describedScopes: Object.values(operation.security?.[0] ?? {}).flat(),
    });
  }
  return { methods, definitions: raw.definitions };
}

export function slackDescription(): Description {
  cached ??= load();
  return cached;
}

export function methodSpec(method: string): MethodSpec | undefined {
  return slackDescription().methods.get(method);
}

/** A form value or JSON value checked against its type; `value` is the parsed value the handler uses. */
export type Checked = { ok: true; value: unknown } | { ok: false; reason: string };

const NUMERIC = /^-?\d+(\.\d+)?$/;

export function checkArg(type: ArgType, raw: unknown, fromJsonBody: boolean): Checked {
  const bad = (what: string): Checked => ({ ok: false, reason: `expected ${what}, got ${JSON.stringify(raw)}` });
  switch (type) {
    case 'string':
      if (typeof raw === 'string') return { ok: true, value: raw };
      return bad('a string');
    case 'timestamp':
      if (typeof raw === 'string' && NUMERIC.test(raw)) return { ok: true, value: raw };
      return bad('a timestamp string such as "1700000000.000100"');
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === '1') return { ok: true, value: true };
      if (raw === 'false' || raw === '0') return { ok: true, value: false };
      if (fromJsonBody && (raw === 1 || raw === 0)) return { ok: true, value: raw === 1 };
      return bad('a boolean (true/false/1/0)');
    case 'integer':
      if (typeof raw === 'number' && Number.isInteger(raw)) return { ok: true, value: raw };
      if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return { ok: true, value: Number(raw) };
      return bad('an integer');
    case 'number':
      if (typeof raw === 'number' && Number.isFinite(raw)) return { ok: true, value: raw };
      if (typeof raw === 'string' && NUMERIC.test(raw)) return { ok: true, value: Number(raw) };
      return bad('a number');
    case 'json-array':
    case 'json-object': {
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return bad(`a JSON-encoded ${type === 'json-array' ? 'array' : 'object'}`);
        }
      }
      if (type === 'json-array' ? Array.isArray(value) : isObject(value)) return { ok: true, value };
      return bad(type === 'json-array' ? 'an array' : 'an object');
    }
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Error codes the fake answers that the 2020 description does not list for the method in question. Each is what
 * current Slack answers in that situation (views.* and oauth.v2.access document no errors at all in 2020).
 */
export const NEWER_ERRORS: ReadonlySet<string> = new Set([
  'invalid_arguments',
  'ratelimited',
  'missing_scope',
  'not_in_channel',
  'invalid_blocks',
  'invalid_metadata_format',
  'invalid_cursor',
  'invalid_types',
  'team_not_found',
  'not_found',
  'hash_conflict',
  'duplicate_external_id',
  'invalid_trigger_id',
  'expired_trigger_id',
  'exchanged_trigger_id',
  'token_revoked',
  'invalid_code',
  'invalid_client_id',
  'bad_client_secret',
  'bad_redirect_uri',
  'invalid_grant_type',
  'invalid_refresh_token',
  'user_not_found',
  'unknown_method',
]);

/**
 * Properties current Slack sends that the 2020 schemas (additionalProperties: false) lack: `app_id`
 * on app messages, `metadata` (2022), `edited` on edited messages, and in conversations.replies (whose 2020 schema
 * knows only user messages) `bot_id`, `bot_profile`, `blocks`, `subtype` and `client_msg_id`.
 */
export const NEWER_RESPONSE_PROPERTIES: ReadonlySet<string> = new Set([
  // conversations.history/replies page with a cursor now; the 2020 schemas only know has_more.
  'response_metadata',
  'app_id',
  'metadata',
  'edited',
  'bot_id',
  'bot_profile',
  'blocks',
  'subtype',
  'client_msg_id',
]);

/** Properties the 2020 schemas require that Slack does not send to bot tokens (`subscribed` of a thread parent). */
export const RESPONSE_DROPPED_REQUIRED: ReadonlySet<string> = new Set(['subscribed']);

/** Places where the 2020 response schema is wrong and the fake answers as Slack does. */
export const RESPONSE_SCHEMA_ERRATA: Array<{ method: string; path: string; why: string }> = [
  {
    method: 'chat.update',
    path: '$.message.blocks',
    why: 'the schema says object; Slack answers the blocks array, as everywhere else',
  },
];
