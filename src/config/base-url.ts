// base_url is where the token is sent, so it is checked like the token is guarded: only https,
// except a loopback host (the bundled simulator), where plain http cannot leave the machine.
import { ConfigError } from '../errors.js';

const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Only https, except loopback hosts (the simulator), where http is allowed. */
export function checkBaseUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`The base_url setting ${JSON.stringify(url)} is not a valid URL; expected e.g. https://api.scarf.sh.`);
  }
  if (u.username || u.password) {
    throw new ConfigError(
      'The base_url setting must not contain a user name or password; the API token goes in the api_token setting.',
    );
  }
  if (u.search || u.hash) {
    throw new ConfigError(
      `The base_url setting ${JSON.stringify(url)} must not have a query string or fragment; expected e.g. https://api.scarf.sh.`,
    );
  }
  if (u.protocol === 'https:') return;
  if (u.protocol === 'http:') {
    if (isLoopback(u.hostname)) return;
    throw new ConfigError(
      `The base_url setting ${JSON.stringify(url)} uses plain http, which would send the API token unencrypted. ` +
        'Use https (default https://api.scarf.sh); http is allowed only for a loopback address (127.0.0.1, localhost, [::1]) such as the bundled simulator.',
    );
  }
  throw new ConfigError(`The base_url setting ${JSON.stringify(url)} must start with https:// (e.g. https://api.scarf.sh).`);
}

/** A host name that can only mean this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || LOOPBACK_V4.test(hostname);
}
