// A plugin reads its section through `configureParams`, the counterpart of
// Fluentd's SectionGenerator.generate (lib/fluent/config/section.rb): raw
// strings are converted per types.rb (convert.ts), defaults applied, aliases
// and deprecations honoured, required params enforced, and every param read
// is marked used so the rest can be reported as unused (config/unused.ts). The typed
// result is checked once more by one ajv validator compiled per schema.

import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ConfigElement, RawParam } from './element.ts';
import type { ParamSchema, ParamSpec, ParamsOf } from './param-schema.ts';
import { convertParam } from './convert.ts';
import { ConfigError } from './errors.ts';

// Params every plugin reads in Fluentd (PluginId / PluginLoggerMixin#configure
// and the plugin lookup), so they never show up as unused.
const PLUGIN_RESERVED = ['@type', '@id', '@log_level'] as const;

// Compiled validators, keyed by schema object identity. An immutable cache:
// a schema always compiles to the same validator.
const validators = new WeakMap<ParamSchema, ValidateFunction>();

export function configureParams<S extends ParamSchema>(
  schema: S,
  element: ConfigElement,
  warn?: (msg: string) => void,
): ParamsOf<S> {
  element.configured = true;
  for (const key of PLUGIN_RESERVED) element.take(key);
  for (const [name, spec] of Object.entries(schema)) {
    element.knownKeys.add(name);
    if (spec.alias !== undefined) element.knownKeys.add(spec.alias);
  }

  const result: Record<string, unknown> = {};
  const sources = new Map<string, RawParam>();
  for (const [name, spec] of Object.entries(schema)) {
    if (spec.secret) element.secretKeys.add(name);
    if (spec.type === 'string') element.stringKeys.add(name);
    // section.rb: the param's own name wins; the alias is read only when the name is absent.
    const raw = element.take(name) ?? (spec.alias !== undefined ? element.take(spec.alias) : undefined);
    if (raw !== undefined) {
      sources.set(name, raw);
      result[name] = convertParam(spec, raw);
      if (spec.deprecated !== undefined && warn) {
        warn(`${raw.pos.file}:${raw.pos.line}: '${name}' parameter is deprecated: ${spec.deprecated}`);
      }
    } else if (hasDefault(spec)) {
      result[name] = defaultValue(name, spec, element);
    } else if (spec.required) {
      throw new ConfigError('AR_CONF_MISSING', element.pos,
        `'${name}' parameter is required in ${sectionPath(element)}; add a line '${name} VALUE' to it`);
    } else {
      result[name] = undefined;
    }
  }

  const validate = validatorFor(schema);
  if (!validate(result)) {
    throw validationError(validate.errors ?? [], schema, element, sources);
  }
  return result as ParamsOf<S>;
}

/**
 * The one `<name>` subsection a plugin allows (section.rb: `multi: false`),
 * marked used; undefined when absent unless `required`.
 */
export function singleSection(parent: ConfigElement, name: string, required = false): ConfigElement | undefined {
  const found = parent.sections(name);
  if (found.length > 1) {
    throw new ConfigError('AR_CONF_DUPLICATE_SECTION', found[1].pos,
      `'<${name}>' section cannot be written twice or more in ${sectionPath(parent)} ` +
      `(first at ${found[0].pos.file}:${found[0].pos.line}); merge them into one`);
  }
  if (found.length === 0 && required) {
    throw new ConfigError('AR_CONF_MISSING', parent.pos,
      `'<${name}>' sections are required in ${sectionPath(parent)}; add <${name}> … </${name}> inside it`);
  }
  return found[0];
}

/** `default: null` means optional with no value, like Fluentd's `default: nil`. */
function hasDefault(spec: ParamSpec): boolean {
  return spec.default !== undefined && spec.default !== null;
}

/** Defaults are copied (Fluentd dups them); a string default of a non-string type is converted like config text. */
function defaultValue(name: string, spec: ParamSpec, element: ConfigElement): unknown {
  const d = spec.default;
  if (typeof d === 'string' && spec.type !== 'string' && spec.type !== 'enum') {
    return convertParam(spec, { key: name, value: d, pos: element.pos });
  }
  if (Array.isArray(d)) return [...d];
  if (d !== null && typeof d === 'object' && !(d instanceof RegExp)) return { ...d };
  return d;
}

// One ajv for every schema: each instance compiles the JSON Schema meta-schema for itself
// (validateSchema), which cost the seed-config receiver ~3.5 MB of RSS with one instance per schema (issue 12.8).
let shared: Ajv | undefined;
function ajv(): Ajv {
  shared ??= new Ajv({ allErrors: false, strict: true });
  return shared;
}

function validatorFor(schema: ParamSchema): ValidateFunction {
  let validate = validators.get(schema);
  if (validate === undefined) {
    const json = toJsonSchema(schema);
    validate = ajv().compile(json);
    // The validator stands alone; the instance's cache would keep every schema it ever compiled.
    ajv().removeSchema(json);
    validators.set(schema, validate);
  }
  return validate;
}

function toJsonSchema(schema: ParamSchema): object {
  const properties: Record<string, object> = {};
  const required: string[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    properties[name] = propertySchema(spec);
    if (spec.required || hasDefault(spec)) required.push(name);
  }
  return { type: 'object', properties, required };
}

function propertySchema(spec: ParamSpec): object {
  const range = {
    ...(spec.minimum !== undefined ? { minimum: spec.minimum } : {}),
    ...(spec.maximum !== undefined ? { maximum: spec.maximum } : {}),
  };
  switch (spec.type) {
    case 'string':
      return { type: 'string' };
    case 'integer':
      return { type: 'integer', ...range };
    case 'float':
    case 'size':
    case 'time':
      return { type: 'number', ...range };
    case 'bool':
      return { type: 'boolean' };
    case 'enum':
      return { type: 'string', enum: [...(spec.enum ?? [])] };
    case 'array': {
      const items = spec.valueType === 'integer' ? 'integer' : spec.valueType === 'float' ? 'number' : 'string';
      return { type: 'array', items: items === 'string' ? { type: items } : { type: items, ...range } };
    }
    case 'hash':
      return { type: 'object' };
    case 'regexp':
      return {}; // a RegExp object; convert.ts already compiled it
  }
}

function validationError(
  errors: ErrorObject[],
  schema: ParamSchema,
  element: ConfigElement,
  sources: Map<string, RawParam>,
): ConfigError {
  const first = errors[0];
  const name = first?.instancePath.split('/')[1] ?? '';
  const raw = sources.get(name);
  const shown = raw !== undefined ? `'${raw.value}'` : '(default)';
  const pos = raw?.pos ?? element.pos;
  const limit = (first?.params as { limit?: number } | undefined)?.limit;
  switch (first?.keyword) {
    case 'minimum':
      return new ConfigError('AR_CONF_BAD_VALUE', pos, `${name} ${shown} is below the minimum ${limit}; write ${limit} or more`);
    case 'maximum':
      return new ConfigError('AR_CONF_BAD_VALUE', pos, `${name} ${shown} is above the maximum ${limit}; write ${limit} or less`);
    default:
      return new ConfigError('AR_CONF_BAD_VALUE', pos,
        `${name || sectionPath(element)} ${shown} ${first?.message ?? 'is invalid'}; ` +
        `write a ${schema[name]?.type ?? 'valid'} value (see the plugin's params)`);
  }
}

function sectionPath(element: ConfigElement): string {
  return element.arg === '' ? `<${element.name}>` : `<${element.name} ${element.arg}>`;
}
