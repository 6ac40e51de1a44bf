/**
 * Reasons of attempts that the service gives itself (the timeline's `reason`), where code reads
 * them back: a step without a key sent nothing, so usage does not count it.
 */
export const NO_CREDENTIALS = 'NO_CREDENTIALS';
