// The connector of safePost's undici pools: the SSRF guard of guarded-agent.ts, for undici. Each new connection
// resolves its hostname, checks every address (resolveAllowedAddresses), then connects with a lookup pinned to
// exactly the checked addresses, so a DNS answer that changes in between (rebinding) cannot re-point it. A refused
// or unresolvable host fails the connection before any socket exists.
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { TimeoutError } from './errors.ts';
import { type GuardOptions, pinnedLookup, resolveAllowedAddresses } from './guarded-agent.ts';

/** TLS sessions kept for resumption, per server name, as Node's https.Agent keeps them (its default is 100). */
const MAX_CACHED_SESSIONS = 100;

/** `timeoutMs` bounds a connection attempt: past the request's whole budget nothing could use it. */
export function createGuardedConnector(guard: GuardOptions, timeoutMs: number): buildConnector.connector {
  const sessions = new Map<string, Buffer>();

  return ({ hostname, protocol, port, servername }, callback) => {
    resolveAllowedAddresses(hostname, guard).then(
      (addresses) => {
        const lookup = pinnedLookup(hostname, addresses);
        let socket: net.Socket;
        try {
          if (protocol === 'https:') {
            // No SNI for an IP literal (undici passes no servername then): TLS verifies the certificate against it.
            const name = servername || (net.isIP(hostname) === 0 ? hostname : undefined);
            const sessionKey = name ?? hostname;
            socket = tls.connect({
              host: hostname,
              port: Number(port) || 443,
              lookup,
              ...(name === undefined ? {} : { servername: name }),
              session: sessions.get(sessionKey),
              // HTTP/1.1 only: one request per connection at a time, as maxConcurrency counts them.
              ALPNProtocols: ['http/1.1'],
            });
            socket.on('session', (session: Buffer) => {
              sessions.delete(sessionKey);
              if (sessions.size >= MAX_CACHED_SESSIONS) sessions.delete(sessions.keys().next().value!);
              sessions.set(sessionKey, session);
            });
          } else {
            socket = net.connect({ host: hostname, port: Number(port) || 80, lookup });
          }
        } catch (error) {
          callback(error as Error, null);
          return;
        }
        socket.setNoDelay(true).setKeepAlive(true, 60_000);
        let pending = true;
        const timer = setTimeout(() => {
          socket.destroy(new TimeoutError(`could not connect to ${hostname} within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.once(protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          clearTimeout(timer);
          if (!pending) return;
          pending = false;
          callback(null, socket);
        });
        socket.once('error', (error: Error) => {
          clearTimeout(timer);
          if (!pending) return;
          pending = false;
          callback(error, null);
        });
      },
      (error: Error) => callback(error, null),
    );
  };
}
