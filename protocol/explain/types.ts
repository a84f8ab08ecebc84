/** The field descriptions `skiff explain` prints and validation's unknown-field warnings read. */

/** One field: its kubectl type name (`string`, `integer`, `[]Container`, `map[string]string`, ...). */
export interface FieldDoc {
  type: string;
  description: string;
  required?: boolean;
  /** The fields of an object (or of each item of a list of objects). */
  fields?: Record<string, FieldDoc>;
}

/** A kind's root: its description and top-level fields. */
export interface KindDoc {
  description: string;
  fields: Record<string, FieldDoc>;
}

/** A leaf field. */
export function leaf(type: string, description: string, required = false): FieldDoc {
  return { type, description, ...(required ? { required } : {}) };
}

/** An object field (or a list of objects when `type` starts with `[]`). */
export function node(type: string, description: string, fields: Record<string, FieldDoc>, required = false): FieldDoc {
  return { type, description, fields, ...(required ? { required } : {}) };
}
