// The routes to Teleport's Auth Service (docs/compatibility-event-handler.md §4.6), raced the way
// api/client/client.go `connect` races its routes: all at once, the first to connect wins, and
// when all fail one error naming each route's failure.
//   direct       TLS to the address, ALPN h2 (authConnect).
//   tls-routing  TLS to the Proxy's address, ALPN `teleport-auth@<EncodeClusterName(cluster)>`
//                then h2 (ConfigureALPN); the Proxy forwards the TLS unterminated to the Auth
//                Service (lib/srv/alpnproxy/auth), so the server is still the Auth Service.
//   tls-routing-upgrade  the same inside the ALPN connection upgrade (conn-upgrade.ts), for a
//                Proxy behind an L7 load balancer (tlsRoutingWithConnUpgradeConnect's place).
// All verify the server as `teleport.cluster.local` against the identity's TLS CAs and send the
// client certificate. The grpc-js channel gets the route's TLS through RouteCredentials.
import { X509Certificate } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { CallCredentials, ChannelCredentials } from '@grpc/grpc-js';
import { ExporterError } from '../errors.ts';
import type { TeleportCredentials } from './identity.ts';
import { upgradeConnection } from './conn-upgrade.ts';
import { causeOf } from './rpc-error.ts';

/** constants.APIDomain */
export const TELEPORT_API_DOMAIN = 'teleport.cluster.local';
/** constants.ALPNSNIAuthProtocol */
export const ALPN_AUTH_PREFIX = 'teleport-auth@';
/** defaults.DefaultDialTimeout */
export const DIAL_TIMEOUT_MS = 30_000;
/** How long a later route that connected waits for an earlier one (ours, see selectRoute). */
const PREFERENCE_GRACE_MS = 1000;

export type RouteName = 'direct' | 'tls-routing' | 'tls-routing-upgrade';

export interface Route {
  readonly name: RouteName;
  readonly alpn: readonly string[];
  /** The cluster routed to (tls-routing only). */
  readonly cluster?: string;
}

/** api/utils EncodeClusterName: hex hides the dots from wildcard matching. */
export function encodeClusterName(cluster: string): string {
  return `${Buffer.from(cluster, 'utf8').toString('hex')}.${TELEPORT_API_DOMAIN}`;
}

/**
 * The cluster of an identity as tsh's KeyRing.RootClusterName reads it: the Issuer CommonName of
 * the Teleport TLS certificate (the Issuer Organization, which Teleport CAs also set, as a fallback).
 */
export function clusterNameOf(creds: TeleportCredentials): string | undefined {
  const issuer = new X509Certificate(creds.certPem).issuer.split('\n');
  const field = (key: string) => issuer.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
  const name = field('CN') ?? field('O');
  return name === undefined || name === '' ? undefined : name;
}

export const DIRECT_ROUTE: Route = { name: 'direct', alpn: ['h2'] };

export function tlsRoutingRoute(cluster: string, upgrade = false): Route {
  return { name: upgrade ? 'tls-routing-upgrade' : 'tls-routing', alpn: [ALPN_AUTH_PREFIX + encodeClusterName(cluster), 'h2'], cluster };
}

/** Where a route dials, and the load balancer's CAs for the upgrade (tests; Node's roots otherwise). */
export interface DialTarget {
  readonly addr: string;
  readonly webCaPems?: readonly string[];
}

/** The same route for a new identity (the cluster is read again). */
export function routeFor(name: RouteName, creds: TeleportCredentials): Route {
  if (name === 'direct') return DIRECT_ROUTE;
  const cluster = clusterNameOf(creds);
  if (cluster === undefined) throw noClusterError(creds);
  return tlsRoutingRoute(cluster, name === 'tls-routing-upgrade');
}

function noClusterError(creds: TeleportCredentials): ExporterError {
  return new ExporterError(
    'AR_EXPORTER_IDENTITY',
    `${creds.source}: the TLS certificate's issuer names no cluster (no CN or O), so the Proxy cannot be asked for its Auth Service; write the identity with tctl auth sign --format=file`,
  );
}

export function describeRoute(route: Route, addr: string): string {
  if (route.name === 'direct') return `as an auth server at ${addr}`;
  const via = route.name === 'tls-routing' ? '' : ' behind a load balancer (WebSocket connection upgrade)';
  return `through the Proxy at ${addr}${via} with TLS routing to cluster ${route.cluster}`;
}

/** Node's codes for a server certificate that the identity's CAs do not vouch for. */
const CERT_CODES = new Set([
  'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The route's TLS over `socket`: verified against the identity's CAs, h2 negotiated. */
export function routeHandshake(socket: Duplex, creds: TeleportCredentials, route: Route): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      ca: [...creds.caPems],
      cert: creds.certPem,
      key: creds.keyPem,
      servername: TELEPORT_API_DOMAIN,
      ALPNProtocols: [...route.alpn],
    });
    const onError = (err: Error & { code?: string }) => {
      tls.destroy();
      if (CERT_CODES.has(err.code ?? '')) {
        reject(new Error(`${err.message}: the server's certificate is not the Auth Service's (not issued by the identity's TLS CA for ${TELEPORT_API_DOMAIN})`, { cause: err }));
      } else if (route.name !== 'direct' && err.code === 'ECONNRESET') {
        reject(new Error(`${err.message}: the Proxy closed the connection (TLS routing off, or no route to cluster ${route.cluster})`, { cause: err }));
      } else reject(err);
    };
    tls.once('error', onError);
    tls.once('secureConnect', () => {
      tls.removeListener('error', onError);
      if (tls.alpnProtocol !== 'h2') {
        tls.destroy();
        reject(new Error(`the server negotiated ${tls.alpnProtocol ? `ALPN ${tls.alpnProtocol}` : 'no ALPN protocol'} instead of h2`));
        return;
      }
      resolve(tls);
    });
  });
}

/** The route over a TCP connection to `target.addr`: the upgrade first when the route asks for it. */
export async function routeConnect(tcp: Socket, creds: TeleportCredentials, route: Route, target: DialTarget): Promise<TLSSocket> {
  if (route.name !== 'tls-routing-upgrade') return routeHandshake(tcp, creds, route);
  const stream = await upgradeConnection(tcp, target.addr, splitHostPort(target.addr).host, target);
  try {
    return await routeHandshake(stream, creds, route);
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/** grpc-js credentials whose connector runs the route's TLS over the TCP socket grpc-js opened. */
export class RouteCredentials extends ChannelCredentials {
  readonly #creds: TeleportCredentials;
  readonly #route: Route;
  readonly #target: DialTarget;

  constructor(creds: TeleportCredentials, route: Route, target: DialTarget) {
    super();
    this.#creds = creds;
    this.#route = route;
    this.#target = target;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(...args: Parameters<ChannelCredentials['_createSecureConnector']>): ReturnType<ChannelCredentials['_createSecureConnector']> {
    const callCredentials = args[2] ?? CallCredentials.createEmpty();
    return {
      connect: async (socket: Socket) => ({ socket: await routeConnect(socket, this.#creds, this.#route, this.#target), secure: true }),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials,
      destroy: () => {},
    };
  }
}

export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ExporterError('AR_EXPORTER_CONFIG', `teleport-addr ${addr} is not host:port; write e.g. teleport.example.com:443`);
  }
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

/** One attempt of one route: TCP, then the route's TLS; resolves when both are done. */
function tryRoute(target: DialTarget, creds: TeleportCredentials, route: Route, timeoutMs: number, cancel: AbortSignal): Promise<void> {
  const { host, port } = splitHostPort(target.addr);
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ host, port });
    const done = (err?: Error) => {
      clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
      tcp.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onCancel = () => done(new Error('cancelled: another route connected first'));
    const timer = setTimeout(() => done(new Error(`no TLS connection within ${timeoutMs} ms`)), timeoutMs);
    cancel.addEventListener('abort', onCancel, { once: true });
    tcp.once('error', done);
    tcp.once('connect', () => {
      tcp.removeListener('error', done);
      routeConnect(tcp, creds, route, target).then((tls) => {
        tls.destroy();
        done();
      }, done);
    });
  });
}

const ROUTE_LABEL: Record<RouteName, string> = { direct: 'direct auth', 'tls-routing': 'TLS routing', 'tls-routing-upgrade': 'TLS routing with connection upgrade' };

/** Every route auditrelay offers for these credentials (tls-routing needs a cluster name). */
function candidateRoutes(creds: TeleportCredentials): Array<{ route: Route } | { label: string; error: Error }> {
  const cluster = clusterNameOf(creds);
  if (cluster === undefined) {
    const error = noClusterError(creds);
    return [{ route: DIRECT_ROUTE }, { label: ROUTE_LABEL['tls-routing'], error }, { label: ROUTE_LABEL['tls-routing-upgrade'], error }];
  }
  return [{ route: DIRECT_ROUTE }, { route: tlsRoutingRoute(cluster) }, { route: tlsRoutingRoute(cluster, true) }];
}

/**
 * Races the routes. The first in route order that connects wins (a later route that connected
 * first waits at most PREFERENCE_GRACE_MS for the earlier ones, so an Auth Service that also
 * answers the TLS-routing ALPN is reported as `direct`); the others are then cancelled. When all
 * fail, one error names each route's failure, in route order (upstream: "all connection methods
 * failed").
 */
export function selectRoute(target: DialTarget, creds: TeleportCredentials, timeoutMs = DIAL_TIMEOUT_MS): Promise<Route> {
  const addr = target.addr;
  splitHostPort(addr); // a malformed address is the user's to fix, not a route failure
  const candidates = candidateRoutes(creds);
  const outcome: Array<'ok' | string | undefined> = candidates.map((c) => ('route' in c ? undefined : `${c.label}: ${c.error.message}`));
  const cancel = new AbortController();
  return new Promise((resolve, reject) => {
    let grace: NodeJS.Timeout | undefined;
    let settled = false;
    const succeeded = () => candidates.find((c, i) => outcome[i] === 'ok' && 'route' in c) as { route: Route } | undefined;
    const finish = (route: Route) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      cancel.abort();
      resolve(route);
    };
    const check = () => {
      for (const [i, c] of candidates.entries()) {
        if (outcome[i] === 'ok' && 'route' in c) return finish(c.route);
        if (outcome[i] === undefined) {
          if (succeeded() !== undefined) grace ??= setTimeout(() => finish(succeeded()!.route), PREFERENCE_GRACE_MS);
          return;
        }
      }
      if (!settled) {
        settled = true;
        clearTimeout(grace);
        reject(new ExporterError('AR_EXPORTER_TELEPORT', `all connection methods failed for ${addr}: ${outcome.join('; ')}`));
      }
    };
    for (const [i, c] of candidates.entries()) {
      if (!('route' in c)) continue;
      tryRoute(target, creds, c.route, timeoutMs, cancel.signal).then(
        () => {
          outcome[i] = 'ok';
          check();
        },
        (err: Error) => {
          outcome[i] = `${ROUTE_LABEL[c.route.name]} (${describeRoute(c.route, addr)}): ${causeOf(err.message)}`;
          check();
        },
      );
    }
    check();
  });
}
