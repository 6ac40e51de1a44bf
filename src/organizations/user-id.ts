/**
 * The longest user id (a token's `sub`) that memberships, settings and audit events hold: a
 * module of its own, so that the token command knows it without loading TypeORM.
 */
export const USER_ID_MAX_LENGTH = 200;
