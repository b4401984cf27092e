// "<host>:<port>" as typed on the command line: a name or IPv4 address before the last colon,
// an IPv6 address in brackets ([2001:db8::2]:443). A bare IPv6 address is ambiguous (is the last
// group the port?), so it is refused with the bracketed form as the way out.
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export function parseHostPort(text: string): { host: string; port: number } {
  const t = text.trim();
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(t);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (isIP(host) !== 6) throw new UsageError(`'${host}' in brackets is not an IPv6 address`);
  } else {
    const colons = t.split(':').length - 1;
    if (colons === 0) throw new UsageError(`'${t}' has no port: write <host>:<port>, e.g. example.net:443`);
    if (colons > 1) throw new UsageError(`'${t}': put an IPv6 address in brackets, e.g. [2001:db8::2]:443`);
    const i = t.lastIndexOf(':');
    host = t.slice(0, i);
    portText = t.slice(i + 1);
  }
  if (host === '') throw new UsageError(`'${t}' has no host`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new UsageError(`the port must be a number from 1 to 65535, got '${portText}'`);
  }
  return { host, port: Number(portText) };
}
