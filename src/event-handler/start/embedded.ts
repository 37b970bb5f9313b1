// `start` as the engine of the receiver's `<source> @type teleport` (receiver.ts wires it into
// input/teleport.ts, which may not import the event handler): the params arrive as start's
// flags, only those (no TOML, no FDFWD_* environment), and events go to the source's one-attempt
// `deliver` through a RetryingSink instead of HTTPS.
import type { Logger } from 'pino';
import { RetryingSink } from '../forward/retrying-sink.ts';
import type { Deliver } from '../forward/retrying-sink.ts';
import { loadStartConfig } from './start-config.ts';
import type { StartFlagName } from './start-config.ts';
import { runStart, tuningFromEnv } from './start.ts';

export interface EmbeddedRunOptions {
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly deliver: Deliver;
}

export interface EmbeddedExporter {
  run(opts: EmbeddedRunOptions): Promise<unknown>;
}

/** Validates the flags as `start` does (throws ExporterError naming the flag) and returns the run. */
export function configureEmbedded(flags: Readonly<Partial<Record<StartFlagName, string>>>): EmbeddedExporter {
  const cfg = loadStartConfig({ flags, env: {}, cwd: process.cwd() });
  const tuning = tuningFromEnv(process.env);
  return {
    run: ({ log, signal, deliver }) => {
      const sink = new RetryingSink(deliver, { dryRun: cfg.dryRun, backoffBaseMs: tuning.backoffBaseMs, backoffMaxMs: tuning.backoffMaxMs }, log);
      return runStart(cfg, { log, signal, tuning, sink });
    },
  };
}
