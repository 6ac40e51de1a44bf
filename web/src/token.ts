/**
 * The bearer token the page calls the API with (DESIGN.md section 12): given in the address's
 * fragment (`#token=<jwt>`, which browsers never send to a server), kept for this tab only
 * (sessionStorage), and cleared from the address bar at once.
 */
const STORAGE_KEY = 'byom.settings.token';

export function takeToken(): string | null {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const given = fragment.get('token');
  if (given) {
    window.sessionStorage.setItem(STORAGE_KEY, given);
    window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
  }
  return window.sessionStorage.getItem(STORAGE_KEY);
}
