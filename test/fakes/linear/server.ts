// A local Linear: GraphQL API validated against Linear's real schema, OAuth endpoints, signed webhooks, and
// switches for the failures an integration must survive. See README.md in this folder.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  getOperationAST,
  parse,
  validate,
} from 'graphql';
import { type Credential, type FakeContext, ScopeError } from './context.ts';
import {
  authenticationError,
  entityNotFoundError,
  forbiddenError,
  graphqlValidationError,
  internalError,
  invalidInputError,
  type LinearErrorBody,
  ratelimitedError,
} from './errors.ts';
import { FailureSwitches, type FailureTarget } from './failures.ts';
import { CredentialRegistry, type OAuthClient } from './oauth.ts';
import { createRoots } from './resolvers.ts';
import { linearSchema } from './schema.ts';
import {
  FakeLinearError,
  type IssueChanges,
  LinearStore,
  NotModelledError,
  seedWorkspace,
  type WorkflowStateType,
} from './store.ts';
import { fakeFieldResolver } from './views.ts';
import { WebhookSender } from './webhooks.ts';

export interface LinearFakeOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Access-token lifetime (Linear: 24 hours). Short values let tests exercise refresh. */
  accessTokenTtlMs?: number;
  /** Send webhooks for changes made through the API too, as Linear does (default true). */
  sendWebhooksForApiChanges?: boolean;
  /** Requests allowed per credential per hour before RATELIMITED (Linear's API-key default: 5000). */
  requestsPerHour?: number;
  /** Start with the seeded Acme workspace (default true). */
  seed?: boolean;
}

/** A GraphQL request the real API would have refused as invalid: the integration has a bug. */
export interface RejectedOperation {
  operationName: string | null;
  query: string;
  variables: unknown;
  errors: string[];
}

/** Every GraphQL request that reached execution, for assertions like "issueCreate was called once". */
export interface RecordedOperation {
  operationName: string | null;
  kind: 'query' | 'mutation' | 'subscription' | null;
  rootFields: string[];
  variables: unknown;
  credential: Credential['kind'];
  status: number;
}

interface SimulateOptions {
  /** The Linear user making the change, by email; default grace@acme.test (not the integration's own user). */
  as?: string;
}

const HOUR_MS = 3_600_000;

export async function createLinearFake(options: LinearFakeOptions = {}) {
  const schema = linearSchema();
  const store = new LinearStore();
  if (options.seed !== false) seedWorkspace(store);
  const admin = [...store.users.values()].find((u) => u.admin);
  const credentials = new CredentialRegistry(store, {
    accessTokenTtlMs: options.accessTokenTtlMs ?? 24 * HOUR_MS,
    approvingUserId: admin?.id ?? '',
  });
  const defaultClient: OAuthClient = credentials.registerClient({ name: 'Switchboard' });
  const apiKey = admin ? credentials.issueApiKey(admin.id) : '';
  const webhooks = new WebhookSender(store, { sendForApiChanges: options.sendWebhooksForApiChanges ?? true });
  const failures = new FailureSwitches();
  const rejected: RejectedOperation[] = [];
  const gaps = new Set<string>();
  const operations: RecordedOperation[] = [];
  const requestsPerHour = options.requestsPerHour ?? 5000;
  const budgets = new Map<string, { used: number; resetAt: number }>();
  const hungResponses = new Set<ServerResponse>();
  /** Requests (by root field, null: any) that take effect and then lose their answer: cut, or never sent. */
  const lostAnswers: Array<{ rootField: string | null; how: 'drop' | 'hang' }> = [];
  const sockets = new Set<Socket>();
  // Changes made while executing an API request are the integration's own; all others are "a Linear user".
  let changeSource: 'api' | 'simulated' = 'simulated';
  store.onChange((change) => webhooks.handleChange(change, changeSource));

  function budgetFor(credential: Credential) {
    const key = `${credential.kind}:${credential.userId}:${credential.clientId ?? ''}`;
    let budget = budgets.get(key);
    if (!budget || budget.resetAt <= Date.now()) {
      budget = { used: 0, resetAt: Date.now() + HOUR_MS };
      budgets.set(key, budget);
    }
    return budget;
  }

  function rateLimitHeaders(remaining: number, resetAt: number): Record<string, string> {
    return {
      'x-ratelimit-requests-limit': String(requestsPerHour),
      'x-ratelimit-requests-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-requests-reset': String(resetAt),
    };
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
  }

  function linearError(error: GraphQLError): LinearErrorBody {
    const original = error.originalError;
    if (original instanceof FakeLinearError) {
      return original.kind === 'not-found'
        ? entityNotFoundError(original.message, error.path)
        : invalidInputError(original.message, error.path);
    }
    if (original instanceof NotModelledError) {
      gaps.add(original.what);
      return {
        ...internalError(original.message),
        path: error.path,
        extensions: { type: 'internal error', code: 'FAKE_NOT_MODELLED' },
      };
    }
    if (original instanceof ScopeError) return { ...forbiddenError(original.message), path: error.path };
    if (error.extensions?.code === 'FAKE_NOT_MODELLED')
      return {
        ...internalError(error.message),
        path: error.path,
        extensions: { type: 'internal error', code: 'FAKE_NOT_MODELLED' },
      };
    // Anything else (a null in a non-null field, an exception in a resolver) is a bug in the fake itself.
    return { ...internalError(`Linear fake failed: ${original?.message ?? error.message}`), path: error.path };
  }

  /** Applies a queued failure; true when the request has been dealt with. */
  function applyFailure(target: FailureTarget, res: ServerResponse): boolean {
    const failure = failures.take(target);
    if (!failure) return false;
    if (failure.kind === 'hang') {
      hungResponses.add(res);
      return true;
    }
    if (failure.kind === 'drop') {
      res.socket?.destroy();
      return true;
    }
    if (failure.kind === 'ratelimited') {
      const resetAt = Date.now() + failure.resetInMs;
      sendJson(
        res,
        400,
        { errors: [ratelimitedError(requestsPerHour)] },
        {
          ...rateLimitHeaders(0, resetAt),
          'retry-after': String(Math.ceil(failure.resetInMs / 1000)),
        },
      );
      return true;
    }
    if (target === 'oauth-token') {
      sendJson(res, failure.status, { error: 'server_error', error_description: 'Internal server error' });
    } else if (failure.status === 500) {
      sendJson(res, 500, { errors: [internalError()] });
    } else {
      // Any other status comes from in front of Linear (a load balancer, a gateway): plain text, no GraphQL body.
      res.writeHead(failure.status, { 'content-type': 'text/plain' }).end(`${failure.status} upstream unavailable`);
    }
    return true;
  }

  function handleGraphql(req: IncomingMessage, res: ServerResponse, rawBody: string) {
    if (applyFailure('graphql', res)) return;
    const auth = credentials.authenticate(req.headers.authorization);
    if (!auth.ok) return sendJson(res, 401, { errors: [authenticationError(auth.reason)] });
    const credential = auth.credential;
    const budget = budgetFor(credential);
    budget.used += 1;
    const remaining = requestsPerHour - budget.used;
    const headers = rateLimitHeaders(remaining, budget.resetAt);
    if (remaining < 0) {
      return sendJson(
        res,
        400,
        { errors: [ratelimitedError(requestsPerHour)] },
        {
          ...headers,
          'retry-after': String(Math.ceil((budget.resetAt - Date.now()) / 1000)),
        },
      );
    }

    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(rawBody);
    } catch {
      return sendJson(res, 400, { errors: [graphqlValidationError('Body is not valid JSON')] }, headers);
    }
    const query = typeof request.query === 'string' ? request.query : '';
    const operationName = typeof request.operationName === 'string' ? request.operationName : null;
    const variables = (request.variables ?? {}) as Record<string, unknown>;
    const reject = (errors: ReadonlyArray<GraphQLError>) => {
      rejected.push({ operationName, query, variables, errors: errors.map((e) => e.message) });
      sendJson(res, 400, { errors: errors.map((e) => graphqlValidationError(e.message, e.locations)) }, headers);
    };

    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return reject([error instanceof GraphQLError ? error : new GraphQLError(String(error))]);
    }
    const validationErrors = validate(schema, document);
    if (validationErrors.length > 0) return reject(validationErrors);
    const operation = getOperationAST(document, operationName ?? undefined);
    const rootFields = (operation?.selectionSet.selections ?? []).flatMap((s) =>
      s.kind === 'Field' ? [s.name.value] : [],
    );

    const context: FakeContext = {
      store,
      credential,
      viewer: () => {
        const user = store.users.get(credential.userId);
        if (!user) throw new FakeLinearError('not-found', 'User');
        return user;
      },
      requireScope: (anyOf) => {
        if (!anyOf.some((scope) => credential.scopes.includes(scope)))
          throw new ScopeError(`Invalid scope: ${anyOf.join(' or ')} required`);
      },
      reportGap: (field) => gaps.add(field),
      rateLimit: () => ({ limit: requestsPerHour, remaining, resetAt: budget.resetAt, periodMs: HOUR_MS }),
    };
    const roots = createRoots(context);
    let result: ExecutionResult;
    changeSource = 'api';
    try {
      // Every resolver is synchronous, so execution completes here and changeSource covers exactly this request.
      result = execute({
        schema,
        document,
        operationName,
        variableValues: variables,
        rootValue: operation?.operation === 'mutation' ? roots.mutation : roots.query,
        contextValue: context,
        fieldResolver: fakeFieldResolver,
      }) as ExecutionResult;
      if (result instanceof Promise) throw new Error('Linear fake resolvers must be synchronous');
    } finally {
      changeSource = 'simulated';
    }
    if (!('data' in result)) return reject(result.errors ?? []);
    const status = result.errors?.length && result.data == null ? 400 : 200;
    operations.push({
      operationName,
      kind: operation?.operation ?? null,
      rootFields,
      variables,
      credential: credential.kind,
      status,
    });
    const body = result.errors?.length
      ? { data: result.data, errors: result.errors.map(linearError) }
      : { data: result.data };
    // The request took effect; only its answer is lost (the caller cannot tell whether it did).
    const lost = lostAnswers.findIndex((l) => l.rootField === null || rootFields.includes(l.rootField));
    if (lost >= 0) {
      const [{ how }] = lostAnswers.splice(lost, 1) as [(typeof lostAnswers)[number]];
      if (how === 'hang') hungResponses.add(res);
      else res.socket?.destroy();
      return;
    }
    sendJson(res, status, body, headers);
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake.linear');
      const route = `${req.method} ${url.pathname}`;
      if (route === 'GET /oauth/authorize') return credentials.handleAuthorize(res, url);
      const body = await readBody(req);
      if (route === 'POST /graphql') return handleGraphql(req, res, body);
      if (route === 'POST /oauth/token') {
        if (applyFailure('oauth-token', res)) return;
        return credentials.handleToken(req, res, body);
      }
      if (route === 'POST /oauth/revoke') return credentials.handleRevoke(req, res, body);
      sendJson(res, 404, { error: `The Linear fake has no ${route}` });
    } catch (error) {
      sendJson(res, 500, { errors: [internalError(`Linear fake failed: ${(error as Error).message}`)] });
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  function actorId(simulate?: SimulateOptions): string {
    const email = simulate?.as ?? 'grace@acme.test';
    const user = store.userByEmail(email);
    if (!user) throw new Error(`no Linear user ${email} in the fake`);
    return user.id;
  }

  /** Friendlier issue changes for tests: state, assignee and labels by name/email instead of ids. */
  interface SimulatedIssueChanges extends IssueChanges {
    stateName?: string;
    stateType?: WorkflowStateType;
    assigneeEmail?: string | null;
    labelNames?: string[];
  }
  function resolveIssueChanges(teamId: string, changes: SimulatedIssueChanges): IssueChanges {
    const { stateName, stateType, assigneeEmail, labelNames, ...plain } = changes;
    const resolved: IssueChanges = { ...plain };
    if (stateName !== undefined) {
      const state = store.stateByName(teamId, stateName);
      if (!state) throw new Error(`no workflow state ${stateName}`);
      resolved.stateId = state.id;
    }
    if (stateType !== undefined) {
      const state = store.stateOfType(teamId, stateType);
      if (!state) throw new Error(`no workflow state of type ${stateType}`);
      resolved.stateId = state.id;
    }
    if (assigneeEmail !== undefined) {
      const user = assigneeEmail === null ? null : store.userByEmail(assigneeEmail);
      if (user === undefined) throw new Error(`no Linear user ${assigneeEmail}`);
      resolved.assigneeId = user?.id ?? null;
    }
    if (labelNames !== undefined) {
      resolved.labelIds = labelNames.map((name) => {
        const label = store.labelByName(name, teamId);
        if (!label) throw new Error(`no label ${name}`);
        return label.id;
      });
    }
    return resolved;
  }

  return {
    url,
    graphqlUrl: `${url}/graphql`,
    oauth: {
      authorizeUrl: `${url}/oauth/authorize`,
      tokenUrl: `${url}/oauth/token`,
      revokeUrl: `${url}/oauth/revoke`,
      /** The OAuth application registered in the fake (client id/secret; any redirect URI accepted). */
      client: defaultClient,
      registerClient: (input?: Partial<OAuthClient>) => credentials.registerClient(input),
      /** Every authorize/token/revoke call, in order. */
      calls: credentials.calls,
      refreshCount: () =>
        credentials.calls.filter((c) => c.endpoint === 'token' && c.grantType === 'refresh_token').length,
      denyNext: () => credentials.denyNext(),
      setAccessTokenTtl: (ms: number) => {
        credentials.accessTokenTtlMs = ms;
      },
      /** Issues an access token directly, skipping the browser part of the flow. */
      issueAccessToken: (input: { userId?: string; scopes?: string[] } = {}) =>
        credentials.issueAccessToken({ userId: input.userId ?? admin?.id ?? '', scopes: input.scopes }),
    },
    /** A personal API key of the workspace admin (ada@acme.test). */
    apiKey,
    issueApiKey: (email: string) => {
      const user = store.userByEmail(email);
      if (!user) throw new Error(`no Linear user ${email}`);
      return credentials.issueApiKey(user.id);
    },
    state: store,
    webhooks,
    failures: {
      rateLimitNext: failures.rateLimitNext.bind(failures),
      failNext: failures.failNext.bind(failures),
      hangNext: failures.hangNext.bind(failures),
      dropConnectionNext: failures.dropConnectionNext.bind(failures),
      /**
       * The next `count` GraphQL requests (only those selecting `rootField`, if given) are executed, then their
       * connection is cut before the answer: the change happened, the caller sees "fetch failed".
       */
      dropResponseNext: (count = 1, options: { rootField?: string } = {}) => {
        for (let i = 0; i < count; i++) lostAnswers.push({ rootField: options.rootField ?? null, how: 'drop' });
      },
      /**
       * Like `dropResponseNext`, but the answer never comes and the connection stays open: the change happened
       * while the caller waits, as when a worker dies before Linear answered.
       */
      hangAfterEffectNext: (count = 1, options: { rootField?: string } = {}) => {
        for (let i = 0; i < count; i++) lostAnswers.push({ rootField: options.rootField ?? null, how: 'hang' });
      },
      revokeToken: (token: string) => credentials.revoke(token),
      expireToken: (token: string) => credentials.expire(token),
      clear: () => {
        failures.clear();
        lostAnswers.length = 0;
      },
    },
    /** Changes "made by a Linear user" in Linear's UI: they change the store and send webhooks. */
    simulate: {
      createIssue(
        input: SimulatedIssueChanges & { teamKey?: string; teamId?: string; title: string },
        opts?: SimulateOptions,
      ) {
        const team = input.teamId ? store.team(input.teamId) : store.teamByKey(input.teamKey ?? 'ENG');
        if (!team) throw new Error(`no team ${input.teamKey}`);
        const { teamKey: _k, teamId: _t, ...changes } = input;
        return store.createIssue({ ...resolveIssueChanges(team.id, changes), teamId: team.id }, actorId(opts));
      },
      updateIssue(idOrIdentifier: string, changes: SimulatedIssueChanges, opts?: SimulateOptions) {
        const issue = store.issue(idOrIdentifier);
        return store.updateIssue(issue.id, resolveIssueChanges(changes.teamId ?? issue.teamId, changes), actorId(opts));
      },
      /** Linear's delete: to the trash, or gone for good with `permanently` ("Entity not found" afterwards). */
      deleteIssue(idOrIdentifier: string, opts: SimulateOptions & { permanently?: boolean } = {}) {
        return opts.permanently
          ? store.purgeIssue(idOrIdentifier, actorId(opts))
          : store.trashIssue(idOrIdentifier, actorId(opts));
      },
      archiveIssue: (idOrIdentifier: string, opts?: SimulateOptions) =>
        store.archiveIssue(idOrIdentifier, actorId(opts)),
      createComment: (issueIdOrIdentifier: string, body: string, opts?: SimulateOptions) =>
        store.createComment({ issueId: store.issue(issueIdOrIdentifier).id, body }, actorId(opts)),
      updateComment: (commentId: string, body: string, opts?: SimulateOptions) =>
        store.updateComment(commentId, { body }, actorId(opts)),
      deleteComment: (commentId: string, opts?: SimulateOptions) => store.deleteComment(commentId, actorId(opts)),
    },
    /** GraphQL operations the real API would reject as invalid. Tests should assert this stays empty. */
    rejectedOperations: rejected,
    /** Schema fields the integration asked for that the fake does not model. */
    gaps,
    operations,
    /** How many executed operations selected this root field (e.g. countCalls('issueCreate')). */
    countCalls: (rootField: string) => operations.filter((o) => o.rootFields.includes(rootField)).length,
    /** Throws if any request was invalid against Linear's schema or needed something the fake does not model. */
    assertNoRejectedOperations() {
      if (rejected.length > 0 || gaps.size > 0) {
        const lines = [
          ...rejected.map((r) => `rejected ${r.operationName ?? '(anonymous)'}: ${r.errors.join('; ')}`),
          ...[...gaps].map((g) => `not modelled: ${g}`),
        ];
        throw new Error(`Linear fake saw invalid or unmodelled requests:\n${lines.join('\n')}`);
      }
    },
    async close() {
      await webhooks.settle();
      for (const res of hungResponses) res.socket?.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type LinearFake = Awaited<ReturnType<typeof createLinearFake>>;
