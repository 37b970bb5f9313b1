// Buffered outputs are a sink plus Fluentd's <buffer> machinery: this turns a
// sink class (out_s3, out_file) into the output factory the registry holds.

import type { ConfigElement } from '../params/element.ts';
import type { ChunkSink, PluginContext } from '../plugin-api.ts';
import { BufferedOutput } from './buffered-output.ts';
import type { BufferDefaults } from './params.ts';

export type SinkClass = new (element: ConfigElement, ctx: PluginContext) => ChunkSink & { readonly bufferDefaults?: BufferDefaults };

export function buffered(Sink: SinkClass): (element: ConfigElement, ctx: PluginContext) => BufferedOutput {
  return (element, ctx) => {
    const sink = new Sink(element, ctx);
    return new BufferedOutput(element.sections('buffer')[0], sink, ctx, {
      ...(sink.bufferDefaults ?? { chunkKeys: [] }),
      pluginId: element.params.get('@id')?.value,
    });
  };
}
