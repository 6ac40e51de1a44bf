import { Provider, providerName } from '../catalog/catalog';
import { badInput } from '../errors';

/**
 * The shape an API key must have before anything is sent (DESIGN.md section 5). Messages say what
 * is wrong and never repeat the key.
 */
const KEY_CHARACTERS = /^[A-Za-z0-9_-]+$/;
export const API_KEY_MIN_LENGTH = 20;
export const API_KEY_MAX_LENGTH = 512;

/** Throws BAD_USER_INPUT (field `apiKey`) unless the key looks like one of the provider's keys. */
export function checkApiKeyShape(provider: Provider, apiKey: string): void {
  const problem = (message: string) => badInput(`The apiKey is not a valid ${providerName(provider)} key: ${message}`, 'apiKey');
  if (/\s/.test(apiKey)) throw problem('it contains white space');
  if (apiKey.length < API_KEY_MIN_LENGTH || apiKey.length > API_KEY_MAX_LENGTH) {
    throw problem(`it must be ${API_KEY_MIN_LENGTH} to ${API_KEY_MAX_LENGTH} characters long`);
  }
  if (provider === Provider.ANTHROPIC && !apiKey.startsWith('sk-ant-')) throw problem("it must start with 'sk-ant-'");
  if (provider === Provider.OPENAI) {
    if (apiKey.startsWith('sk-ant-')) throw problem('it is an Anthropic key');
    if (!apiKey.startsWith('sk-')) throw problem("it must start with 'sk-'");
  }
  if (!KEY_CHARACTERS.test(apiKey)) throw problem('it may hold only letters, digits, "-" and "_"');
}

/** What the service shows of a key: '…' and its last four characters. */
export function keyHint(apiKey: string): string {
  return `…${apiKey.slice(-4)}`;
}
