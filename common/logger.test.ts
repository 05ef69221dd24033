import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { DrizzleQueryError } from 'drizzle-orm';
import { createLogger, temporalLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', 'test', stream), text: () => lines.join('') };
}

describe('the logger', () => {
  it('redacts credentials, cookies, API keys and passwords wherever they sit', () => {
    const { logger, text } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer sb_SECRET1', cookie: 'session=SECRET2', 'x-api-key': 'sb_SECRET3' } },
        res: { headers: { 'set-cookie': 'session=SECRET4' } },
        integration: { credentials: { apiKey: 'lin_SECRET5' } },
        body: { password: 'SECRET6', token: 'SECRET7' },
        headers: { authorization: 'Basic SECRET8' },
      },
      'request',
    );
    assert.doesNotMatch(text(), /SECRET/);
    assert.match(text(), /\[redacted\]/);
  });

  it('redacts credential-like keys at any depth, in any spelling, and keeps the rest of the line', () => {
    const { logger, text } = capture();
    logger.warn(
      {
        integration: {
          id: 'int-1',
          oauth: { response: { data: { accessToken: 'SECRET1', refresh_token: 'SECRET2', expiresIn: 3600 } } },
          options: [{ client: { clientSecret: 'SECRET3', webhookSecret: 'SECRET4' } }],
        },
        deep: { a: { b: { c: { d: { Authorization: 'Bearer SECRET5', dbPassword: 'SECRET6' } } } } },
      },
      'token refresh failed',
    );
    const line = JSON.parse(text());
    assert.doesNotMatch(text(), /SECRET/);
    assert.equal(line.integration.oauth.response.data.accessToken, '[redacted]');
    assert.equal(line.integration.oauth.response.data.expiresIn, 3600);
    assert.equal(line.integration.id, 'int-1');
    assert.equal(line.msg, 'token refresh failed');
  });

  it('keeps query parameters out of logged errors: message, stack, fields and causes', () => {
    const { logger, text } = capture();
    const cause = new Error('value too long for type character varying(255)');
    const failed = new DrizzleQueryError(
      'insert into "ticket_comments" ("body", "author") values ($1, $2)',
      ['My card number is SECRET-4111', 'someone@SECRET.example'],
      cause,
    );
    logger.error({ err: failed }, 'request failed');
    logger.error({ error: new Error('wrapped', { cause: failed }) }, 'activity failed');
    logger.warn({ err: String(failed) }, 'as a string');
    logger.error({ detail: { nested: failed } }, 'nested error');
    const out = text();
    assert.doesNotMatch(out, /SECRET/);
    const [first] = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // What failed stays diagnosable: the statement and the database's reason.
    assert.match(first.err.message, /^Failed query: insert into "ticket_comments"/);
    assert.match(first.err.message, /params: \[redacted\]/);
    assert.match(first.err.stack, /value too long/);
    assert.equal(first.err.params, undefined);
  });

  it('sends the Temporal SDK’s log lines (an activity failure with its error) through the same scrubbing', () => {
    const { logger, text } = capture();
    const failed = new DrizzleQueryError('select 1 where "email" = $1', ['SECRET@example.test']);
    temporalLogger(logger).warn('Activity failed', { error: failed, durationMs: 12, token: 'SECRET-TOKEN' });
    assert.doesNotMatch(text(), /SECRET/);
    const line = JSON.parse(text());
    assert.equal(line.msg, 'Activity failed');
    assert.equal(line.level, 40);
    assert.match(line.error.message, /^Failed query: select 1/);
  });
});
