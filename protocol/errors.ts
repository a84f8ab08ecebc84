/**
 * The one error catalogue of Skiff. Every error that crosses a boundary (MQTT API, HTTP, CLI) carries
 * one of these stable codes, so the CLI, the MQTT API and the HTTP API report the same thing.
 */

/** Stable error codes with a one-line meaning each. */
export const ErrorCodes = {
  SKIFF_ERR_PARSE: 'the document is not valid YAML or JSON',
  SKIFF_ERR_VALIDATION: 'a field breaks a rule',
  SKIFF_ERR_UNKNOWN_KIND: 'the kind is not one Skiff serves',
  SKIFF_ERR_NOT_FOUND: 'the object does not exist',
  SKIFF_ERR_ALREADY_EXISTS: 'an object with that name exists',
  SKIFF_ERR_CONFLICT: 'the object changed since it was read (resourceVersion mismatch)',
  SKIFF_ERR_BAD_REQUEST: 'the request is malformed',
  SKIFF_ERR_UNAUTHORIZED: 'bad or missing credentials',
  SKIFF_ERR_FORBIDDEN: 'the identity may not do that',
  SKIFF_ERR_UNAVAILABLE: 'the target (node, master) cannot be reached now',
  SKIFF_ERR_TIMEOUT: 'no answer in time',
  SKIFF_ERR_GONE: 'a watch fell too far behind and was ended: list again, then watch (Kubernetes: 410 Gone)',
  SKIFF_ERR_JOIN_REJECTED: 'the node may not join',
  SKIFF_ERR_INTERNAL: 'something broke inside Skiff',
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/** One broken rule: where (a field path such as `spec.template.spec.containers[0].name`) and which rule. */
export interface FieldError {
  field: string;
  rule: string;
}

/** The shape of an error on the wire (API responses, events, RPC). */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: FieldError[];
}

/** An error with a stable code; what every layer throws for "the request is wrong". */
export class SkiffError extends Error {
  override readonly name = 'SkiffError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
  ) {
    super(message);
  }

  /** The wire form of this error. */
  toWire(): WireError {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }

  /** Rebuilds an error received on the wire. */
  static fromWire(e: WireError): SkiffError {
    // An own-property test: a code of "constructor" or "toString" is not a Skiff error code.
    const code = (e && typeof e.code === 'string' && Object.prototype.hasOwnProperty.call(ErrorCodes, e.code) ? e.code : 'SKIFF_ERR_INTERNAL') as ErrorCode;
    return new SkiffError(code, String(e?.message ?? 'unknown error'), e?.details);
  }
}

/** Any thrown value as a wire error: SkiffErrors keep their code, everything else is INTERNAL. */
export function toWireError(err: unknown): WireError {
  if (err instanceof SkiffError) return err.toWire();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'SKIFF_ERR_INTERNAL', message };
}
