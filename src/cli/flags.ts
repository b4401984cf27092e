// Library errors name the library's options (`max 1400`, `family 6`, `method udp`); the CLI shows
// them as the flags a user types (`--max 1400`, `-6`, `--method udp`). This is the one map between
// the two; a command whose flag differs (explain's --family) passes its own entries.
import type { NameOption } from '../errors.js';

/** Library option -> CLI flag. Options measured in ms (…Ms) are typed in seconds on the command line. */
const FLAGS: Record<string, string> = {
  max: '--max',
  min: '--min',
  port: '--port',
  method: '--method',
  timeoutMs: '--timeout',
  intervalMs: '--interval',
  maxHops: '--max-hops',
  count: '--count',
  ttl: '--ttl',
  size: '--size',
  payload: '--payload',
  sweep: '--sweep',
  mtu: '--mtu',
  about: '--about',
  proto: '--proto',
  srcPort: '--src-port',
  seq: '--seq',
  from: '--from',
  force: '--force',
  localMtu: '--local-mtu',
  iface: '--iface',
  path: '--path',
  hostHeader: '--host',
  concurrency: '--concurrency',
  ratePps: '--rate',
};

export function flagNamer(overrides: Record<string, string> = {}): NameOption {
  return (option, value) => {
    const flag = overrides[option] ?? FLAGS[option];
    if (flag === undefined) {
      // -4 / -6: the value is the flag.
      if (option === 'family') return value === undefined ? '-4/-6' : `-${value}`;
      return value === undefined ? option : `${option} ${value}`;
    }
    if (value === undefined) return flag;
    if (option.endsWith('Ms') && typeof value === 'number') return `${flag} ${value / 1000}`;
    return `${flag} ${value}`;
  };
}
