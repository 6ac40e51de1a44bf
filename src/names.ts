import { badInput } from './errors';

/**
 * Trims a display name (of an organization, an agent) and checks it: not blank, not too long, no
 * control characters. BAD_USER_INPUT naming `field` otherwise.
 */
export function checkedName(raw: string, { what, field, maxLength }: { what: string; field: string; maxLength: number }): string {
  const name = raw.trim();
  if (name.length === 0) throw badInput(`The ${what} must not be blank`, field);
  if (name.length > maxLength) throw badInput(`The ${what} must be at most ${maxLength} characters`, field);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badInput(`The ${what} must not contain control characters`, field);
  return name;
}
