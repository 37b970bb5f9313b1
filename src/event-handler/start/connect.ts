// `start`'s client.New: race the routes to Teleport (teleport/routes.ts, docs/compatibility-event-handler.md
// §4.6), say which one won, and while all fail log one line naming each route's failure and try
// again, like the route probe after it does.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ExporterError } from '../errors.ts';
import type { TeleportCredentials } from '../teleport/identity.ts';
import { TeleportClient } from '../teleport/teleport-client.ts';

export interface ConnectTuning {
  /** Per route attempt (upstream DialTimeout, 30 s). */
  readonly dialTimeoutMs?: number;
  /** Pause between rounds when every route failed. */
  readonly connectRetryMs?: number;
}

/** The connected client, or undefined when `signal` stopped the run first. */
export async function connectTeleport(addr: string, creds: TeleportCredentials, log: Logger, tuning: ConnectTuning, signal?: AbortSignal): Promise<TeleportClient | undefined> {
  while (signal?.aborted !== true) {
    try {
      const client = await TeleportClient.connect(addr, creds, tuning.dialTimeoutMs);
      const { name, cluster } = client.route;
      log.info(
        { addr, route: name, cluster },
        name === 'direct' ? 'Connected to Teleport as an auth server' : `Connected to Teleport through the Proxy Service with TLS routing to cluster ${cluster}`,
      );
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
