// A small checker for the JSON-schema subset Slack's description uses ($ref, type, properties, required,
// additionalProperties, items, enum, pattern, minItems), so tests can hold the fake's answers to the documented
// response shapes. In these generated schemas an `items` array outside an array type means "one of".
import { isObject } from './description.ts';

type Schema = Record<string, unknown>;

export interface SchemaCheckOptions {
  definitions: Record<string, unknown>;
  /** Properties newer than the 2020 description that may appear although `additionalProperties` is false. */
  newerProperties?: ReadonlySet<string>;
  /** Properties the 2020 description requires that current Slack no longer sends. */
  droppedRequired?: ReadonlySet<string>;
}

export function schemaErrors(value: unknown, schema: unknown, options: SchemaCheckOptions, path = '$'): string[] {
  if (!isObject(schema)) return [];
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/definitions/', '');
    return schemaErrors(value, options.definitions[name], options, path);
  }
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
  if (Array.isArray(s.items) && !types.includes('array')) {
    const variants = s.items.map((variant) => schemaErrors(value, variant, options, path));
    if (variants.some((errors) => errors.length === 0)) return [];
    const best = variants.reduce((a, b) => (b.length < a.length ? b : a));
    return [`${path}: matches none of ${variants.length} variants; closest: ${best.join(' | ')}`];
  }
  const errors: string[] = [];
  if (types.length > 0 && !types.some((t) => hasType(value, t))) {
    return [`${path}: expected ${types.join('|')}, got ${value === null ? 'null' : typeof value}`];
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => e === value))
    errors.push(`${path}: ${JSON.stringify(value)} not in ${JSON.stringify(s.enum)}`);
  if (typeof s.pattern === 'string' && typeof value === 'string' && !new RegExp(s.pattern).test(value))
    errors.push(`${path}: ${JSON.stringify(value)} does not match ${s.pattern}`);
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      errors.push(`${path}: fewer than ${s.minItems} items`);
    if (isObject(s.items))
      value.forEach((item, i) => {
        errors.push(...schemaErrors(item, s.items, options, `${path}[${i}]`));
      });
  }
  if (isObject(value)) {
    const properties = isObject(s.properties) ? s.properties : {};
    for (const name of Array.isArray(s.required) ? (s.required as string[]) : [])
      if (!(name in value) && !options.droppedRequired?.has(name)) errors.push(`${path}: missing ${name}`);
    for (const [name, v] of Object.entries(value)) {
      if (name in properties) errors.push(...schemaErrors(v, properties[name], options, `${path}.${name}`));
      else if (s.additionalProperties === false && !options.newerProperties?.has(name))
        errors.push(`${path}: unexpected property ${name}`);
    }
  }
  return errors;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === type;
  }
}
