import assert from 'node:assert/strict';
import { httpError } from '../test-fixtures.ts';
import { assertEndpointAllowed } from './endpoint-policy.ts';

describe('the endpoint policy (checked when an endpoint is saved)', () => {
  const production = { allowHttp: false, allowCidrs: [] };

  it('accepts an https URL on a hostname: which addresses it reaches is checked at connect time', () => {
    assert.doesNotThrow(() =>
      assertEndpointAllowed(production, { url: 'https://hooks.example.test/in', headers: { 'X-Api-Key': 'k' } }),
    );
  });

  it('names every problem at once, each by its field', () => {
    assert.throws(
      () =>
        assertEndpointAllowed(production, {
          url: 'http://hooks.example.test/',
          headers: { 'Transfer-Encoding': 'chunked', 'webhook-id': 'x', Authorization: 'ok' },
        }),
      (error: { details: Array<{ path: string }> }) => {
        assert.deepEqual(
          error.details.map((d) => d.path),
          ['url', 'headers.Transfer-Encoding', 'headers.webhook-id'],
        );
        return true;
      },
    );
  });

  it('refuses IP literals in internal ranges unless the deployment allow-lists them', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://10.0.0.5/',
      'https://172.16.0.1/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://169.254.169.254/',
      'https://[fd00::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://0x7f.1/',
    ])
      assert.throws(() => assertEndpointAllowed(production, { url }), httpError(422, 'url'), url);
    const internal = { allowHttp: false, allowCidrs: ['10.0.0.0/8'] };
    assert.doesNotThrow(() => assertEndpointAllowed(internal, { url: 'https://10.0.0.5/' }));
    assert.throws(() => assertEndpointAllowed(internal, { url: 'https://192.168.1.1/' }), httpError(422, 'url'));
  });

  it('allows plain http only where the deployment says so', () => {
    assert.doesNotThrow(() =>
      assertEndpointAllowed({ allowHttp: true, allowCidrs: [] }, { url: 'http://hooks.example.test/' }),
    );
  });
});
