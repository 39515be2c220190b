// Reading the server's OpenAPI 3.1 document for the API reference page: the
// parts of the format the page shows, and plain-text descriptions of schemas.

export type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  pattern?: string;
};

type Ref = { $ref: string };
export type Parameter = { name: string; in: 'path' | 'query' | 'header' | 'cookie'; required?: boolean; description?: string; schema?: Schema };
type Media = Record<string, { schema?: Schema }>;
export type Response = { description?: string; content?: Media };
export type Operation = {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: (Parameter | Ref)[];
  requestBody?: { required?: boolean; content?: Media };
  responses?: Record<string, Response | Ref>;
  security?: Record<string, string[]>[];
  'x-reauth'?: boolean;
};
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; responses?: Record<string, Response>; parameters?: Record<string, Parameter> };
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Method = (typeof METHODS)[number];

/** The document, or an error saying it is not one this page can show. */
export function asDocument(value: unknown): OpenApiDocument {
  const candidate = value as Partial<OpenApiDocument> | null;
  if (typeof candidate?.openapi !== 'string' || !candidate.openapi.startsWith('3.') || typeof candidate.paths !== 'object' || candidate.info === undefined) {
    throw new Error('The server did not send an OpenAPI 3 document.');
  }
  return candidate as OpenApiDocument;
}

/** Follows a local `$ref` (`#/components/…`); anything else is returned as it is. */
export function resolve<T extends object>(document: OpenApiDocument, value: T | Ref): T {
  if (!('$ref' in value) || typeof value.$ref !== 'string' || !value.$ref.startsWith('#/')) return value as T;
  let target: unknown = document;
  for (const part of value.$ref.slice(2).split('/')) {
    target = (target as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return (target ?? {}) as T;
}

export type Entry = { id: string; method: Method; path: string; operation: Operation };
export type TagGroup = { name: string; description: string; entries: Entry[] };

/** A stable anchor for an operation: `get-api-v1-orgs-orgId`. */
const anchorOf = (method: string, path: string) => `${method}-${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

/** The operations by tag, in the document's tag order (untagged ones last). */
export function groupByTag(document: OpenApiDocument): TagGroup[] {
  const groups = new Map<string, TagGroup>((document.tags ?? []).map((tag) => [tag.name, { name: tag.name, description: tag.description ?? '', entries: [] }]));
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const name = operation.tags?.[0] ?? 'Other';
      if (!groups.has(name)) groups.set(name, { name, description: '', entries: [] });
      groups.get(name)!.entries.push({ id: anchorOf(method, path), method, path, operation });
    }
  }
  return [...groups.values()].filter((group) => group.entries.length > 0);
}

type Credentials = { kind: 'public' } | { kind: 'session' } | { kind: 'any' } | { kind: 'scope'; scope: string };

/** What an operation accepts, from its security requirements (apps/server/src/http/openapi.ts writes them). */
export function credentialsOf(operation: Operation): Credentials {
  const security = operation.security ?? [];
  if (security.length === 0) return { kind: 'public' };
  const key = security.find((requirement) => 'apiKey' in requirement)?.apiKey;
  if (key === undefined) return { kind: 'session' };
  return key.length > 0 ? { kind: 'scope', scope: key.join(', ') } : { kind: 'any' };
}

const isNull = (schema: Schema) => schema.type === 'null';

/** The schema's alternatives without `null`, and whether null is one of them. */
export function alternativesOf(schema: Schema): { options: Schema[]; nullable: boolean } {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return { options: union.filter((option) => !isNull(option)), nullable: union.some(isNull) };
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((type) => type !== 'null');
    return { options: types.map((type) => ({ ...schema, type })), nullable: types.length < schema.type.length };
  }
  return { options: [schema], nullable: false };
}

/** A short type in words: `string (uuid)`, `array of integer`, `"new" | "done"`, `object or null`. */
export function typeLabel(document: OpenApiDocument, schema: Schema | undefined, depth = 0): string {
  if (schema === undefined) return 'any';
  const resolved = resolve(document, schema);
  if (resolved.enum) return resolved.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (resolved.const !== undefined) return JSON.stringify(resolved.const);
  const { options, nullable } = alternativesOf(resolved);
  const labels = options.map((option) => {
    if (option !== resolved) return typeLabel(document, option, depth + 1);
    if (option.type === 'array') return depth > 3 ? 'array' : `array of ${typeLabel(document, option.items, depth + 1)}`;
    if (typeof option.additionalProperties === 'object' && !option.properties) return `map of ${typeLabel(document, option.additionalProperties, depth + 1)}`;
    if (typeof option.type === 'string') return option.format ? `${option.type} (${option.format})` : option.type;
    return option.properties ? 'object' : 'any';
  });
  const label = labels.length === 0 ? 'null' : labels.join(' or ');
  return nullable && labels.length > 0 ? `${label} or null` : label;
}

/** The limits a schema puts on a value, in words. */
export function constraintsOf(schema: Schema): string[] {
  const notes: string[] = [];
  const range = (low: number | undefined, high: number | undefined, unit: string) => {
    if (low !== undefined && high !== undefined) notes.push(`${low}–${high} ${unit}`);
    else if (low !== undefined) notes.push(`at least ${low} ${unit}`);
    else if (high !== undefined) notes.push(`at most ${high} ${unit}`);
  };
  range(schema.minLength || undefined, schema.maxLength, 'characters');
  range(schema.minItems || undefined, schema.maxItems, 'items');
  if (schema.maxProperties !== undefined) notes.push(`at most ${schema.maxProperties} members`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) range(schema.minimum, schema.maximum, '(value)');
  if (schema.uniqueItems) notes.push('no duplicates');
  // The patterns of apps/server/src/http/schemas.ts Text and NonBlankText say it in words.
  if (schema.pattern === '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$') notes.push('not blank');
  else if (schema.pattern !== undefined && schema.pattern !== '^[^\\u0000]*$') notes.push(`pattern ${schema.pattern}`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes;
}
