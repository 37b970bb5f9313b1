// The plugin registry: the catalog names every type and loads its class only when a config
// names it; each loaded class's `static type` is its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { catalog } from '../../src/receiver.ts';
import { loadPlugins, pluginTypes, type FilterClass } from '../../src/router/plugin-registry.ts';
import { parseConfigString } from '../../src/config/parser.ts';
import { HttpInput } from '../../src/input/http.ts';
import { DedupFilter } from '../../src/filter/dedup.ts';
import { RecordTransformerFilter } from '../../src/filter/record-transformer.ts';
import { StdoutOutput } from '../../src/output/stdout.ts';
import { NullOutput } from '../../src/output/null.ts';
import { RelabelOutput } from '../../src/output/relabel.ts';
import { FileOutput } from '../../src/output/file.ts';
import { S3Output } from '../../src/output/s3.ts';
import { SecondaryFileMatch } from '../../src/output/secondary-file.ts';
import { BufferedOutput } from '../../src/buffer/buffered-output.ts';

test('every catalog entry loads a class keyed by its static type', async () => {
  const registry = await loadPlugins(catalog);
  for (const kind of ['inputs', 'filters', 'outputs'] as const) {
    assert.deepEqual(Object.keys(registry[kind]), registry.known[kind], kind);
    for (const [key, Class] of Object.entries(registry[kind])) assert.equal(key, Class.type, `${kind}.${key}`);
  }
});

test('the receiver registers exactly the Fluentd plugin types we implement', async () => {
  const registry = await loadPlugins(catalog);
  assert.deepEqual(Object.keys(registry.inputs).sort(), ['http', 'monitor_agent', 'prometheus', 'prometheus_monitor', 'prometheus_output_monitor', 'teleport']);
  assert.equal(registry.inputs.http, HttpInput);
  assert.deepEqual(Object.keys(registry.filters), [RecordTransformerFilter.type, DedupFilter.type]);
  assert.equal(registry.filters.record_transformer, RecordTransformerFilter);
  assert.equal(registry.filters.dedup, DedupFilter);
  assert.deepEqual(Object.keys(registry.outputs).sort(), ['file', 'null', 'relabel', 's3', 'secondary_file', 'stdout']);
  assert.equal(registry.outputs.stdout, StdoutOutput);
  assert.equal(registry.outputs.null, NullOutput);
  assert.equal(registry.outputs.relabel, RelabelOutput);
  assert.equal(registry.outputs.secondary_file, SecondaryFileMatch, 'secondary_file is registered only to refuse it outside <secondary>');
  assert.equal(registry.outputs.file!.type, FileOutput.type);
  assert.equal(registry.outputs.s3!.type, S3Output.type);
  assert.ok(registry.outputs.s3!.prototype instanceof BufferedOutput, 's3 is a sink inside a BufferedOutput');
  assert.ok(registry.outputs.file!.prototype instanceof BufferedOutput, 'file is a sink inside a BufferedOutput');
});

test('a catalog key that is not its class\'s static type is refused', async () => {
  const filters = { dedup: async (): Promise<FilterClass> => RecordTransformerFilter };
  await assert.rejects(loadPlugins({ inputs: {}, filters, outputs: {} }), /the filters catalog loads @type dedup as a class whose static type is record_transformer/);
});

test('only the types a config names are loaded; every type stays known for the "supported" list', async () => {
  const root = parseConfigString(`<source>\n  @type http\n</source>\n<filter **>\n  @type record_transformer\n</filter>
<match a>\n  @type relabel\n  @label @X\n</match>\n<match b>\n  @type nope\n</match>\n<label @X>\n  <match **>\n    @type null\n  </match>\n</label>\n`, 'fluent.conf', '.');
  const types = pluginTypes(root);
  assert.deepEqual([...types.inputs], ['http']);
  assert.deepEqual([...types.filters], ['record_transformer']);
  assert.deepEqual([...types.outputs], ['relabel', 'nope', 'null']);
  const registry = await loadPlugins(catalog, types);
  assert.deepEqual(Object.keys(registry.inputs), ['http']);
  assert.deepEqual(Object.keys(registry.outputs), ['null', 'relabel'], 'an unknown name is left to the pipeline to refuse');
  assert.deepEqual(registry.known.outputs, ['stdout', 'null', 'relabel', 'file', 's3', 'secondary_file']);
  assert.deepEqual(registry.known.inputs, ['http', 'prometheus', 'prometheus_output_monitor', 'prometheus_monitor', 'monitor_agent', 'teleport']);
});
