/** The validation error a raw object raises; fails the test when it raises none. */
import { normalizeObject, type SkiffError } from '../../protocol/index.js';

/** The error `normalizeObject(raw)` throws. */
export function errorOf(raw: unknown): SkiffError {
  try {
    normalizeObject(raw);
  } catch (err) {
    return err as SkiffError;
  }
  throw new Error('expected a validation error');
}
