// Buffered outputs are a sink plus Fluentd's <buffer> machinery: this turns a
// sink class (out_s3, out_file) into the output class the registry holds, with
// the `<secondary>` its <match> names (output.rb#configure, docs/compatibility.md §8).

import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import { singleSection } from '../params/params.ts';
import type { ChunkSink, PluginContext, SecondarySink } from '../plugin-api.ts';
import { FileSecondary } from '../output/file.ts';
import { SecondaryFileOutput } from '../output/secondary-file.ts';
import { BufferedOutput } from './buffered-output.ts';
import type { BufferDefaults } from './params.ts';

export type SinkClass = (new (element: ConfigElement, ctx: PluginContext) => ChunkSink & { readonly bufferDefaults?: BufferDefaults }) & { readonly type: string };

/** A plugin `<secondary> @type X` may name; its `static type` is X. */
export type SecondaryClass = (new (element: ConfigElement, ctx: PluginContext) => SecondarySink) & { readonly type: string };

/** The secondaries auditrelay implements (Fluentd's secondary_file, and out_file). */
export const SECONDARY_OUTPUTS: readonly SecondaryClass[] = [SecondaryFileOutput, FileSecondary];

/** The output class for `@type <Sink.type>`: the sink inside a BufferedOutput built from its <buffer> and <secondary>. */
export function buffered(Sink: SinkClass, secondaries: readonly SecondaryClass[] = SECONDARY_OUTPUTS): (new (element: ConfigElement, ctx: PluginContext) => BufferedOutput) & { readonly type: string } {
  return class extends BufferedOutput {
    static readonly type = Sink.type;
    constructor(element: ConfigElement, ctx: PluginContext) {
      const sink = new Sink(element, ctx);
      const secondary = secondaryOf(element, Sink.type, secondaries, ctx);
      super(element.sections('buffer')[0], sink, ctx, {
        ...(sink.bufferDefaults ?? { chunkKeys: [] }),
        pluginId: element.params.get('@id')?.value,
        outputPos: element.pos,
        ...(secondary !== undefined ? { secondary } : {}),
      });
    }
  };
}

/** output.rb: at most one <secondary>, no <buffer> or <secondary> in it, @type defaults to the primary's. */
function secondaryOf(element: ConfigElement, primaryType: string, secondaries: readonly SecondaryClass[], ctx: PluginContext): SecondarySink | undefined {
  const section = singleSection(element, 'secondary');
  if (section === undefined) return undefined;
  for (const inner of ['buffer', 'secondary']) {
    const nested = section.sections(inner)[0];
    if (nested !== undefined) {
      throw new ConfigError('AR_CONF_BAD_VALUE', nested.pos,
        `<secondary> section cannot have <${inner}> section; the secondary writes the primary's chunks, remove this <${inner}>`);
    }
  }
  const written = section.take('@type');
  const type = written?.value ?? primaryType;
  const Class = secondaries.find((c) => c.type === type);
  if (Class === undefined) {
    const known = secondaries.map((c) => c.type).join(', ');
    throw new ConfigError(written ? 'AR_CONF_UNKNOWN_TYPE' : 'AR_CONF_MISSING', written?.pos ?? section.pos,
      written
        ? `<secondary> @type ${type} is not supported by auditrelay; use one of: ${known}`
        : `<secondary> has no @type and the primary's (${type}) cannot be a secondary; add '@type secondary_file' and 'directory DIR'`);
  }
  const log = ctx.log.child({ secondary: type });
  if (Class !== SecondaryFileOutput && type !== primaryType) {
    log.warn({ primary: primaryType, secondary: type }, 'Use different plugin for secondary. Check the plugin works with primary like secondary_file');
  }
  return new Class(section, { ...ctx, log });
}
