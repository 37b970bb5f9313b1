// Buffered outputs are a sink plus Fluentd's <buffer> machinery: this turns a
// sink class (out_s3, out_file) into the output class the registry holds.

import type { ConfigElement } from '../params/element.ts';
import type { ChunkSink, PluginContext } from '../plugin-api.ts';
import { BufferedOutput } from './buffered-output.ts';
import type { BufferDefaults } from './params.ts';

export type SinkClass = (new (element: ConfigElement, ctx: PluginContext) => ChunkSink & { readonly bufferDefaults?: BufferDefaults }) & { readonly type: string };

/** The output class for `@type <Sink.type>`: the sink inside a BufferedOutput built from its <buffer>. */
export function buffered(Sink: SinkClass): (new (element: ConfigElement, ctx: PluginContext) => BufferedOutput) & { readonly type: string } {
  return class extends BufferedOutput {
    static readonly type = Sink.type;
    constructor(element: ConfigElement, ctx: PluginContext) {
      const sink = new Sink(element, ctx);
      super(element.sections('buffer')[0], sink, ctx, {
        ...(sink.bufferDefaults ?? { chunkKeys: [] }),
        pluginId: element.params.get('@id')?.value,
        outputPos: element.pos,
      });
    }
  };
}
