// What a schema property's text becomes. The row typer (row-typer.ts) and the fast CSV path
// (csv-fast/compile.ts) both convert by it, so the two can never disagree on a column's type
// or on whether it may be null.
import type { JsonSchemaProperty } from '../schemas.js';

/** The conversion a property's text takes. */
export const enum Kind {
  String = 0,
  Integer = 1,
  Number = 2,
  Boolean = 3,
  DateTime = 4,
  Date = 5,
}

export interface PropertyKind {
  kind: Kind;
  /** The schema admits null (a property without a type is taken as a nullable string). */
  nullable: boolean;
}

export function kindOf(prop: JsonSchemaProperty): PropertyKind {
  const types = Array.isArray(prop.type) ? prop.type : prop.type === undefined ? ['string'] : [prop.type];
  const nullable = types.includes('null') || prop.type === undefined;
  const t = types.find((x) => x !== 'null') ?? 'string';
  switch (t) {
    case 'integer':
      return { kind: Kind.Integer, nullable };
    case 'number':
      return { kind: Kind.Number, nullable };
    case 'boolean':
      return { kind: Kind.Boolean, nullable };
    default:
      if (prop.format === 'date-time') return { kind: Kind.DateTime, nullable };
      if (prop.format === 'date') return { kind: Kind.Date, nullable };
      return { kind: Kind.String, nullable };
  }
}
