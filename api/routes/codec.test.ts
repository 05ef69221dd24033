import assert from 'node:assert/strict';
import { EncryptionCodec } from '../../common/temporal-codec.ts';
import { apiFetch, createTestOrganization, startTestApi, type TestApi, type TestUser } from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

const UI_ORIGIN = 'http://localhost:8233';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const jsonPayload = (value: unknown) => ({
  metadata: { encoding: b64('json/plain') },
  data: b64(JSON.stringify(value)),
});

const OPERATOR_EMAIL = 'ops@switchboard.example';

describe('the Temporal remote codec (/codec)', () => {
  let api: TestApi;
  /** A deployment operator (SWITCHBOARD_OPERATOR_EMAILS); the role in its organisation does not matter. */
  let operator: TestUser;
  /** An organisation's admin: the highest organisation role, and still no operator. */
  let admin: TestUser;
  before(async () => {
    await truncateAll();
    api = await startTestApi({ config: { operatorEmails: [OPERATOR_EMAIL] } });
    operator = await createTestOrganization({ role: 'viewer', email: OPERATOR_EMAIL.toUpperCase() });
    admin = await createTestOrganization();
  });
  after(() => api.close());

  /** What the Temporal UI sends with "include cross-origin credentials" on: its origin, our cookie, X-Namespace. */
  function fromTheUi(user: TestUser, path: string, body: unknown, headers: Record<string, string> = {}) {
    return apiFetch(api, 'POST', path, body, {
      origin: UI_ORIGIN,
      cookie: user.cookie,
      'x-namespace': 'default',
      ...headers,
    });
  }

  it('decodes what the workers’ codec encrypted, for an operator signed in through the UI', async () => {
    const [encrypted] = await new EncryptionCodec(api.deps.config.codecKeys).encode([
      {
        metadata: { encoding: new TextEncoder().encode('json/plain') },
        data: new TextEncoder().encode('{"subject":"Printer on fire"}'),
      },
    ]);
    const response = await fromTheUi(operator, '/codec/decode', {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(encrypted!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(encrypted!.data!).toString('base64'),
        },
      ],
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.deepEqual(response.body.payloads, [jsonPayload({ subject: 'Printer on fire' })]);
  });

  it('round-trips encode then decode with an API key (the temporal CLI’s --codec-auth)', async () => {
    const plain = [jsonPayload({ n: 1 }), jsonPayload('two')];
    const headers = { authorization: `Bearer ${operator.apiKey}` };
    const encoded = await apiFetch(api, 'POST', '/codec/encode', { payloads: plain }, headers);
    assert.equal(encoded.status, 200);
    assert.equal(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
    const decoded = await apiFetch(api, 'POST', '/codec/decode', encoded.body, headers);
    assert.deepEqual(decoded.body.payloads, plain);
  });

  it('passes payloads it did not encrypt through unchanged', async () => {
    const response = await fromTheUi(operator, '/codec/decode', { payloads: [jsonPayload('plain')] });
    assert.deepEqual(response.body.payloads, [jsonPayload('plain')]);
  });

  it('answers a CORS preflight from the Temporal UI, and only from it', async () => {
    const preflight = (origin: string) =>
      fetch(`${api.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      });
    const ui = await preflight(UI_ORIGIN);
    assert.equal(ui.status, 204);
    assert.equal(ui.headers.get('access-control-allow-origin'), UI_ORIGIN);
    assert.equal(ui.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ui.headers.get('access-control-allow-headers')!, /X-Namespace/i);
    const other = await preflight('https://evil.example');
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
  });

  it('refuses an organisation’s admin (403, cookie or API key): decoding would show every organisation’s payloads', async () => {
    const body = { payloads: [jsonPayload('x')] };
    for (const direction of ['decode', 'encode']) {
      const viaUi = await fromTheUi(admin, `/codec/${direction}`, body);
      assert.equal(viaUi.status, 403);
      assert.match(viaUi.body.error.message, /SWITCHBOARD_OPERATOR_EMAILS/);
      const viaKey = await apiFetch(api, 'POST', `/codec/${direction}`, body, {
        authorization: `Bearer ${admin.apiKey}`,
      });
      assert.equal(viaKey.status, 403);
    }
  });

  it('refuses callers without credentials (401), non-operators (403), or with a cookie from another site (403)', async () => {
    const body = { payloads: [jsonPayload('x')] };
    assert.equal((await apiFetch(api, 'POST', '/codec/decode', body, { origin: UI_ORIGIN })).status, 401);
    const agent = await createTestOrganization({ role: 'agent' });
    const forbidden = await fromTheUi(agent, '/codec/decode', body);
    assert.equal(forbidden.status, 403);
    const crossSite = await fromTheUi(operator, '/codec/decode', body, { origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
  });

  it('answers undecodable payloads and another namespace with 400', async () => {
    const tampered = {
      payloads: [{ metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('old') }, data: b64('xx') }],
    };
    const unknownKey = await fromTheUi(operator, '/codec/decode', tampered);
    assert.equal(unknownKey.status, 400);
    assert.match(unknownKey.body.error.message, /unknown key id "old"/);
    const otherNamespace = await fromTheUi(operator, '/codec/decode', { payloads: [] }, { 'x-namespace': 'payments' });
    assert.equal(otherNamespace.status, 400);
    const notBase64 = await fromTheUi(operator, '/codec/decode', { payloads: [{ data: 'not base64!' }] });
    assert.equal(notBase64.status, 422);
  });
});
