// `start`'s client.New: race the routes to Teleport (teleport/routes.ts, docs/compatibility-event-handler.md
// §4.6), say which one won, and while all fail log one line naming each route's failure and try
// again, like the route probe after it does.
import { setTimeout as sleep } from 'node:timers/promises';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { ExporterError } from '../errors.ts';
import type { TeleportCredentials } from '../teleport/identity.ts';
import { TeleportClient } from '../teleport/teleport-client.ts';

export interface ConnectTuning {
  /** Per route attempt (upstream DialTimeout, 30 s). */
  readonly dialTimeoutMs?: number;
  /** Pause between rounds when every route failed. */
  readonly connectRetryMs?: number;
  /** CAs for a load balancer's certificate in the connection upgrade (tests; NODE_EXTRA_CA_CERTS for users). */
  readonly proxyWebCaPems?: readonly string[];
}

/** The connected client, or undefined when `signal` stopped the run first. */
export async function connectTeleport(addr: string, creds: TeleportCredentials, log: Logger, tuning: ConnectTuning, signal?: AbortSignal): Promise<TeleportClient | undefined> {
  checkUsable(creds);
  while (signal?.aborted !== true) {
    try {
      const client = await TeleportClient.connect(addr, creds, tuning.dialTimeoutMs, tuning.proxyWebCaPems);
      const { name, cluster } = client.route;
      const how = { direct: 'as an auth server', 'tls-routing': 'through the Proxy Service with TLS routing', 'tls-routing-upgrade': 'through the Proxy Service behind a load balancer (connection upgrade) with TLS routing' }[name];
      log.info({ addr, route: name, cluster }, `Connected to Teleport ${how}${cluster === undefined ? '' : ` to cluster ${cluster}`}`);
      return client;
    } catch (err) {
      if (!(err instanceof ExporterError) || err.code !== 'AR_EXPORTER_TELEPORT') throw err;
      const retryMs = tuning.connectRetryMs ?? 5000;
      log.error({ addr }, `Cannot connect to Teleport; retrying in ${Math.round(retryMs / 1000)}s. ${err.message}`);
      await sleep(retryMs, undefined, { signal }).catch(() => {});
    }
  }
  return undefined;
}

/**
 * A key or certificate OpenSSL cannot load fails every route the same way; retrying would hide a
 * configuration mistake behind an endless "Cannot connect" loop, so it is one error and an exit.
 * The message names the file, never its contents.
 */
function checkUsable(creds: TeleportCredentials): void {
  try {
    createSecureContext({ key: creds.keyPem, cert: creds.certPem, ca: [...creds.caPems] });
  } catch (err) {
    const why = (err as { reason?: string }).reason ?? (err as Error).message.split('\n')[0];
    throw new ExporterError('AR_EXPORTER_IDENTITY', `${creds.source}: the key, certificate or CA cannot be loaded (${why}); write the identity again with tctl auth sign --format=file`);
  }
}
