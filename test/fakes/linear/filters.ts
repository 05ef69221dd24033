// Linear's filter language (`filter: { state: { type: { eq: "completed" } } }`) evaluated against views.
// Filter keys are schema field names, so one evaluator serves every type: a scalar field takes a comparator,
// a relation takes the related type's filter, a connection takes a collection filter (`some`, `every`,
// `length`, or fields directly, meaning "some"). A key the views don't carry fails loudly instead of
// matching everything.
import { NotModelledError } from './store.ts';

type Filter = Record<string, unknown>;
type Value = unknown;

const COMPARATOR_KEYS = new Set([
  'eq',
  'neq',
  'in',
  'nin',
  'eqIgnoreCase',
  'neqIgnoreCase',
  'contains',
  'containsIgnoreCase',
  'containsIgnoreCaseAndAccent',
  'notContains',
  'notContainsIgnoreCase',
  'startsWith',
  'startsWithIgnoreCase',
  'notStartsWith',
  'endsWith',
  'notEndsWith',
  'null',
  'gt',
  'gte',
  'lt',
  'lte',
]);

function isComparator(filter: Filter): boolean {
  const keys = Object.keys(filter);
  return keys.length > 0 && keys.every((k) => COMPARATOR_KEYS.has(k));
}

function comparable(value: Value): number | string {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) return Date.parse(value);
  return String(value);
}

function compare(value: Value, comparator: Filter, alsoMatches: Value[] = []): boolean {
  const candidates = [value, ...alsoMatches];
  const text = (v: Value) => (v == null ? '' : String(v));
  return Object.entries(comparator).every(([op, operand]) => {
    if (operand === undefined) return true;
    switch (op) {
      case 'eq':
        return candidates.some((v) => v === operand || (v != null && operand != null && String(v) === String(operand)));
      case 'neq':
        return candidates.every((v) => v !== operand && String(v) !== String(operand));
      case 'in':
        return candidates.some((v) => (operand as Value[]).map(String).includes(String(v)));
      case 'nin':
        return candidates.every((v) => !(operand as Value[]).map(String).includes(String(v)));
      case 'eqIgnoreCase':
        return text(value).toLowerCase() === String(operand).toLowerCase();
      case 'neqIgnoreCase':
        return text(value).toLowerCase() !== String(operand).toLowerCase();
      case 'contains':
        return text(value).includes(String(operand));
      case 'containsIgnoreCase':
      case 'containsIgnoreCaseAndAccent':
        return text(value).toLowerCase().includes(String(operand).toLowerCase());
      case 'notContains':
        return !text(value).includes(String(operand));
      case 'notContainsIgnoreCase':
        return !text(value).toLowerCase().includes(String(operand).toLowerCase());
      case 'startsWith':
        return text(value).startsWith(String(operand));
      case 'startsWithIgnoreCase':
        return text(value).toLowerCase().startsWith(String(operand).toLowerCase());
      case 'notStartsWith':
        return !text(value).startsWith(String(operand));
      case 'endsWith':
        return text(value).endsWith(String(operand));
      case 'notEndsWith':
        return !text(value).endsWith(String(operand));
      case 'null':
        return (value == null) === operand;
      case 'gt':
        return value != null && comparable(value) > comparable(operand);
      case 'gte':
        return value != null && comparable(value) >= comparable(operand);
      case 'lt':
        return value != null && comparable(value) < comparable(operand);
      case 'lte':
        return value != null && comparable(value) <= comparable(operand);
      default:
        throw new NotModelledError(`the ${op} comparator`);
    }
  });
}

function fieldValue(view: Record<string, Value>, key: string): Value {
  const value = view[key];
  return typeof value === 'function'
    ? (value as (args: object) => Value)({ first: 10_000, includeArchived: true })
    : value;
}

function isConnection(value: Value): value is { nodes: Array<Record<string, Value>> } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { nodes?: unknown }).nodes);
}

export function matchesFilter(view: Record<string, Value>, filter: Filter | null | undefined): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([key, condition]) => {
    if (condition === undefined || condition === null) return true;
    if (key === 'and') return (condition as Filter[]).every((f) => matchesFilter(view, f));
    if (key === 'or') return (condition as Filter[]).some((f) => matchesFilter(view, f));
    if (!Object.hasOwn(view, key)) {
      throw new NotModelledError(`filtering ${String(view.__typename)} by ${key}`);
    }
    const value = fieldValue(view, key);
    const sub = condition as Filter;
    if (isConnection(value)) return matchesCollection(value.nodes, sub);
    if (isComparator(sub) && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      // Linear's issue `id` comparator also accepts the identifier (ENG-123).
      const aliases = key === 'id' && view.__typename === 'Issue' ? [view.identifier] : [];
      return compare(value, sub, aliases);
    }
    if (value === null || value === undefined) return 'null' in sub ? sub.null === true : false;
    if ('null' in sub && sub.null === true) return false;
    const { null: _ignored, ...nested } = sub;
    return matchesFilter(value as Record<string, Value>, nested);
  });
}

function matchesCollection(nodes: Array<Record<string, Value>>, filter: Filter): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (condition === undefined || condition === null) return true;
    switch (key) {
      case 'some':
        return nodes.some((n) => matchesFilter(n, condition as Filter));
      case 'every':
        return nodes.every((n) => matchesFilter(n, condition as Filter));
      case 'length':
        return compare(nodes.length, condition as Filter);
      case 'and':
        return (condition as Filter[]).every((f) => matchesCollection(nodes, f));
      case 'or':
        return (condition as Filter[]).some((f) => matchesCollection(nodes, f));
      default:
        return nodes.some((n) => matchesFilter(n, { [key]: condition }));
    }
  });
}
