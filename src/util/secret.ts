/**
 * A secret value that cannot leak by accident: JSON, string conversion and util.inspect (so pino,
 * console.log, an error message built with a template literal, a BullMQ payload) all print
 * `[secret]`. Only `reveal()` gives the value, at the one call that sends it to a backend.
 */
import { inspect } from 'node:util';

const REDACTED = '[secret]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string' || value === '') throw new TypeError('a secret must be a non-empty string');
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
