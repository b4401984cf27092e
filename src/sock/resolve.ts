// Turn what the user typed into one address of the wanted family.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ResolveError, UsageError } from '../errors.js';
import type { Family } from '../probe/outcome.js';
import { zoneOf } from '../wire/addr.js';
import { interfaceIndex } from './socket.js';

export interface Resolved {
  target: string;
  address: string;
  family: Family;
}

export async function resolveTarget(target: string, family?: Family): Promise<Resolved> {
  if (typeof target !== 'string' || target.trim() === '') throw new UsageError('a target host is required');
  const host = target.trim().replace(/^\[(.*)\]$/, '$1');
  if (/[\s/\\]/.test(host) || host.length > 253) throw new UsageError(`'${target}' is not a host name or address`);
  if (family !== undefined && family !== 4 && family !== 6) throw new UsageError(`family must be 4 or 6, got ${String(family)}`);
  const zone = zoneOf(host);
  if (zone !== null) {
    if (isIP(host) !== 6) throw new UsageError(`'${target}': only IPv6 addresses take a zone (%interface)`);
    interfaceIndex(zone); // an interface that is not there is a usage error, named
  } else if (/^fe[89ab][0-9a-f]:/i.test(host)) {
    throw new UsageError(`${host} is link-local: name the interface it is on, e.g. ${host}%eth0`);
  }
  const literal = isIP(host);
  if (literal !== 0) {
    if (family !== undefined && literal !== family) {
      throw new UsageError(`${host} is an IPv${literal} address, but -${family} was asked for`);
    }
    return { target, address: host, family: literal as Family };
  }
  try {
    const r = await lookup(host, { family: family ?? 0, verbatim: true });
    return { target, address: r.address, family: r.family as Family };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOTFOUND' || code === 'ENODATA'
      ? family ? `has no IPv${family} address` : 'does not resolve'
      : `could not be resolved (${code ?? String(err)})`;
    throw new ResolveError(`unknown host '${host}': it ${why}`, { cause: err });
  }
}
