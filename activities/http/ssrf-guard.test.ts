import assert from 'node:assert/strict';
import { checkAddress, checkEndpointUrl, parseAllowList } from './ssrf-guard.ts';

const refused = (address: string, allowList = parseAllowList([])) => {
  const verdict = checkAddress(address, allowList);
  return verdict.allowed ? undefined : verdict.reason;
};

describe('SSRF guard: which addresses a delivery may reach', () => {
  it('allows globally routable unicast addresses, IPv4 and IPv6', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001::200e'])
      assert.equal(refused(address), undefined, address);
  });

  const cases: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.0.0.5', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.254', /private/],
    ['192.168.1.1', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['169.254.169.254', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['224.0.0.1', /multicast/],
    ['192.0.2.1', /reserved or documentation/],
    ['198.51.100.7', /reserved or documentation/],
    ['203.0.113.9', /reserved or documentation/],
    ['240.0.0.1', /reserved/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['fd00::1', /unique local/],
    ['fc00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /reserved or documentation/],
    ['::ffff:127.0.0.1', /IPv4-mapped form of 127\.0\.0\.1 \(loopback\)/],
    ['::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1 \(loopback\)/],
    ['0:0:0:0:0:ffff:7f00:0001', /IPv4-mapped form of 127\.0\.0\.1/],
    ['::ffff:10.0.0.1', /IPv4-mapped form of 10\.0\.0\.1 \(private network\)/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped form of 169\.254\.169\.254/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::7f00:1', /IPv4-compatible/],
    ['::ffff:0:a00:1', /IPv4-translated/],
    ['fe80::1%eth0', /link-local/],
    ['64:ff9b::a00:5', /NAT64 form of 10\.0\.0\.5 \(private network\)/],
    ['64:ff9b::127.0.0.1', /NAT64 form of 127\.0\.0\.1/],
    ['64:ff9b:1::808:808', /local-use NAT64/],
    ['2002:a9fe:a9fe::1', /6to4 form of 169\.254\.169\.254/],
    ['2001::1', /Teredo/],
    ['not-an-ip', /not an IP address/],
  ];
  for (const [address, reason] of cases) {
    it(`refuses ${address}`, () => {
      assert.match(refused(address) ?? 'allowed', reason);
    });
  }

  it('judges IPv6 forms embedding a public IPv4 address by that address', () => {
    assert.equal(refused('::ffff:8.8.8.8'), undefined);
    assert.equal(refused('64:ff9b::808:808'), undefined);
    assert.equal(refused('2002:808:808::1'), undefined);
  });

  it('lets an explicit allow-list reach internal targets, including their IPv4-mapped forms', () => {
    const allowList = parseAllowList(['127.0.0.0/8', '10.20.0.0/16', '::1']);
    for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '10.20.3.4', '::1'])
      assert.equal(refused(address, allowList), undefined, address);
    for (const address of ['10.21.0.1', '192.168.1.1', '169.254.169.254', '::2'])
      assert.ok(refused(address, allowList), address);
  });

  it('refuses an allow-list entry that is not a CIDR, naming it', () => {
    assert.throws(() => parseAllowList(['10.0.0.0/8', 'intranet']), /"intranet" is not an IP address or CIDR/);
    assert.throws(() => parseAllowList(['10.0.0.0/33']), /"10\.0\.0\.0\/33"/);
  });
});

describe('SSRF guard: endpoint URL policy', () => {
  const strict = { allowHttp: false, allowList: parseAllowList([]) };
  const reasonFor = (url: string, policy = strict) => {
    const verdict = checkEndpointUrl(url, policy);
    return verdict.ok ? 'ok' : `${verdict.code}: ${verdict.reason}`;
  };

  it('accepts https URLs with a hostname, whatever it resolves to later', () => {
    assert.equal(reasonFor('https://hooks.example.com/switchboard?token=abc'), 'ok');
    assert.equal(reasonFor('https://hooks.example.com:8443/x'), 'ok');
  });

  it('accepts only http and https, and names the schemes this deployment allows', () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'gopher://example.com', 'javascript:alert(1)'])
      assert.match(reasonFor(url), /^invalid_url: scheme \w+ is not allowed; use https$/);
    assert.equal(
      reasonFor('ftp://example.com/x', { ...strict, allowHttp: true }),
      'invalid_url: scheme ftp is not allowed; use https or http',
    );
    assert.match(reasonFor('not a url'), /^invalid_url: not a valid absolute URL/);
  });

  it('requires https unless the deployment allows plain http', () => {
    assert.match(reasonFor('http://hooks.example.com/'), /^invalid_url: https is required/);
    assert.equal(reasonFor('http://hooks.example.com/', { ...strict, allowHttp: true }), 'ok');
  });

  it('refuses credentials in the URL', () => {
    assert.match(reasonFor('https://user:pass@hooks.example.com/'), /^invalid_url: credentials in the URL/);
    assert.match(reasonFor('https://user@hooks.example.com/'), /^invalid_url: credentials/);
  });

  it('refuses IP-literal hosts in refused ranges, however the address is spelled', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://[::1]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://2130706433/',
      'https://0x7f.1/',
      'https://0177.0.0.1/',
      'https://169.254.169.254/latest/meta-data/',
    ])
      assert.match(reasonFor(url), /^ssrf_refused: .* is an? .* address$/, url);
    assert.equal(reasonFor('https://8.8.8.8/'), 'ok');
    assert.equal(reasonFor('https://127.0.0.1/', { ...strict, allowList: parseAllowList(['127.0.0.0/8']) }), 'ok');
  });
});
