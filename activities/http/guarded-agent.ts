// Keep-alive agents that check the address they are about to connect to, after DNS resolution and before any
// socket exists. Checking only when a URL is saved is not enough: DNS can change afterwards (rebinding), so each
// new connection resolves, checks every address, then connects to exactly the checked addresses.

import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { DnsError, SsrfRefusedError } from './errors.ts';
import { type AllowList, checkAddress, refusedRange, withArticle } from './ssrf-guard.ts';

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Hostname to addresses. Injectable so tests can make a made-up hostname resolve to any address. */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

/** The operating system's resolver (getaddrinfo: /etc/hosts, then DNS), as Node's own default lookup uses. */
export const systemResolve: Resolve = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, order: 'verbatim' });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export type GuardOptions = { allowList: AllowList; resolve: Resolve };

/**
 * The addresses a connection to `host` may use. Refuses the host if ANY address it resolves to is refused: a
 * name that mixes public and internal addresses is either misconfigured or an attack, and silently using only
 * the public ones would make deliveries succeed or fail depending on resolver order.
 */
export async function resolveAllowedAddresses(host: string, { allowList, resolve }: GuardOptions) {
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family !== 0) {
    addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'lookup failed';
      throw new DnsError(`could not resolve ${host} (${code})`, { cause: error });
    }
    if (addresses.length === 0) throw new DnsError(`${host} resolved to no address`);
  }
  for (const { address } of addresses) {
    const verdict = checkAddress(address, allowList);
    if (!verdict.allowed) {
      // An IP literal is the endpoint's own URL; a name's answers are internal DNS, so only their kind is named.
      throw new SsrfRefusedError(
        address === host
          ? `refused: ${host} is ${withArticle(verdict.reason)} address; deliveries may not reach it`
          : `refused: ${host} resolves to ${withArticle(refusedRange(address))} address; deliveries may not reach it`,
      );
    }
  }
  return addresses;
}

/** A lookup that answers with addresses already resolved and checked, so the connection cannot be re-pointed. */
export function pinnedLookup(host: string, addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable = options.family ? addresses.filter((a) => a.family === options.family) : addresses;
    const first = usable[0];
    if (first === undefined) {
      callback(new DnsError(`${host} has no IPv${options.family} address`), '', 0);
    } else if (options.all) {
      (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

type ConnectionCallback = Parameters<http.Agent['createConnection']>[1];

function guard<A extends http.Agent>(agent: A, options: GuardOptions): A {
  const connect = agent.createConnection.bind(agent);
  // The callback form of createConnection lets the agent wait for our resolution; an error passed to it fails
  // the request before any socket is created.
  agent.createConnection = (connectOptions, callback?: ConnectionCallback) => {
    const host = connectOptions.host ?? 'localhost';
    resolveAllowedAddresses(host, options).then(
      (addresses) => {
        let socket: ReturnType<typeof connect>;
        try {
          socket = connect({ ...connectOptions, lookup: pinnedLookup(host, addresses) });
        } catch (error) {
          callback?.(error as Error, undefined as never);
          return;
        }
        callback?.(null, socket as NonNullable<typeof socket>);
      },
      (error: Error) => callback?.(error, undefined as never),
    );
    return undefined;
  };
  return agent;
}

export type GuardedAgents = { http: http.Agent; https: https.Agent; destroy(): void };

/**
 * No maxSockets: Node's agent does not count connections whose createConnection is still resolving, so the limit
 * would not hold. Connections to an origin are bounded by the concurrent POSTs to it, which the delivery layer caps
 * per endpoint.
 */
export function createGuardedAgents(options: GuardOptions): GuardedAgents {
  const agentOptions = { keepAlive: true, scheduling: 'lifo' as const };
  const httpAgent = guard(new http.Agent(agentOptions), options);
  const httpsAgent = guard(new https.Agent(agentOptions), options);
  return {
    http: httpAgent,
    https: httpsAgent,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
