import { Type, type TSchema } from '@fastify/type-provider-typebox';

// Shapes shared by several domains' routes. Response schemas double as an
// allowlist: Fastify serialises only the properties named here.
export const UserSchema = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() });

export const Uuid = Type.String({ format: 'uuid' });

/** The response schema of a route that answers 204 (it sends `null`, which Fastify leaves out). */
export const NoContent = { 204: Type.Null() };

/** Dates leave as ISO 8601 strings; handlers return Date objects. */
export const DateTime = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

/** A closed list of strings, typed as its literal union. */
export const OneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.String({ enum: [...values] }));

/**
 * Text from outside: bounded, and without NUL, which PostgreSQL cannot store
 * in text (it would fail the insert instead of being refused up front).
 */
export const Text = (options: { minLength?: number; maxLength: number; pattern?: string }) =>
  Type.String({ minLength: options.minLength ?? 0, maxLength: options.maxLength, pattern: options.pattern ?? '^[^\\u0000]*$' });

/** Like Text, with at least one character that is not white space. */
export const NonBlankText = (maxLength: number) => Text({ minLength: 1, maxLength, pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' });

/** The schema, or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * The query of a paged list (http/cursor.ts): `cursor` is the previous
 * answer's `nextCursor`; `limit` is 1 to 100 (text, as query strings are).
 */
export const PageQuery = (defaultLimit: number) => ({
  cursor: Type.Optional(Type.String({ maxLength: 200, description: "The previous page's nextCursor." })),
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: `1 to 100 (default ${defaultLimit}).` })),
});
