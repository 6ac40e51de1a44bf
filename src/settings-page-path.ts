/**
 * Where the Models settings page is served (DESIGN.md section 12); its assets live below it. A
 * module of its own, so that the token command prints the address without loading Express.
 */
export const SETTINGS_PAGE_PATH = '/settings/organization/models';
