// pathmtu serve's configuration: modules (how to probe) and the allow list (what may be probed).
// YAML in, a validated ServeConfig out; every problem is a ConfigError naming the field.
import { DEFAULT_INTERVAL_S, DEFAULT_RAISE_S } from '../watch/machine.js';
import { METHOD_CHOICES, isMethodChoice } from '../probe/outcome.js';
import { BlockList, isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { PathMtuError } from '../errors.js';
import type { MethodChoice } from '../discover/index.js';

export class ConfigError extends PathMtuError {
  constructor(message: string) {
    super(message, 'ERR_SERVE_CONFIG');
  }
}

export interface Module {
  method: MethodChoice;
  family?: 4 | 6;
  min?: number;
  max?: number;
  /** Longest probe run in seconds; the scrape timeout can only shorten it. */
  timeout: number;
}

/** Targets kept current by the watch engine and exported on /metrics (the config's `watch:`). */
export interface WatchConfig {
  targets: string[];
  /** The module whose method, family, min and max the watcher uses (default `default`). */
  module: string;
  /** Seconds between confirmations of each target's PMTU (default 60). */
  intervalS: number;
  /** Seconds after which a larger PMTU is tried again (RFC 8899's PMTU_RAISE_TIMER, default 600). */
  raiseS: number;
}

export const WATCH_DEFAULTS = { module: 'default', intervalS: DEFAULT_INTERVAL_S, raiseS: DEFAULT_RAISE_S } as const;
/** More watched targets than this is a config mistake (each costs probes and memory). */
export const MAX_WATCHED = 100_000;

export interface ServeConfig {
  modules: Record<string, Module>;
  /** Absent when the config watches nothing. */
  watch?: WatchConfig;
  /** CIDRs and host names as written (for --config.check and error messages). */
  allow: string[];
  allowed(target: string): boolean;
}

export const DEFAULT_MODULE: Module = { method: 'auto', timeout: 10 };

function moduleFrom(name: string, raw: unknown): Module {
  if (raw === null || raw === undefined) return { ...DEFAULT_MODULE };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`module ${name}: expected a mapping`);
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m))
    if (!['method', 'family', 'min', 'max', 'timeout'].includes(k)) throw new ConfigError(`module ${name}: unknown field ${k} (known: method, family, min, max, timeout)`);
  const out: Module = { ...DEFAULT_MODULE };
  if (m.method !== undefined) {
    if (typeof m.method !== 'string' || !isMethodChoice(m.method)) throw new ConfigError(`module ${name}: method must be one of ${METHOD_CHOICES.join(', ')}`);
    out.method = m.method as MethodChoice;
  }
  if (m.family !== undefined) {
    if (m.family !== 4 && m.family !== 6) throw new ConfigError(`module ${name}: family must be 4 or 6`);
    out.family = m.family;
  }
  for (const k of ['min', 'max'] as const) {
    const v = m[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 68 || (v as number) > 65575) throw new ConfigError(`module ${name}: ${k} must be a whole number of bytes from 68 to 65575`);
    out[k] = v as number;
  }
  if (out.min !== undefined && out.max !== undefined && out.max < out.min) throw new ConfigError(`module ${name}: max ${out.max} is below min ${out.min}`);
  if (m.timeout !== undefined) {
    if (typeof m.timeout !== 'number' || !(m.timeout > 0) || m.timeout > 300) throw new ConfigError(`module ${name}: timeout must be seconds, above 0 and at most 300`);
    out.timeout = m.timeout;
  }
  return out;
}

/** A host name as the allow list accepts it (letters, digits, dots, hyphens). */
const NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*\.?$/i;

export function buildConfig(raw: unknown, extraAllow: string[] = []): ServeConfig {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('the config must be a mapping with modules and allow');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!['modules', 'allow', 'watch'].includes(k)) throw new ConfigError(`unknown top-level field ${k} (known: modules, allow, watch)`);
  const modules: Record<string, Module> = { default: { ...DEFAULT_MODULE } };
  if (r.modules !== undefined && r.modules !== null) {
    if (typeof r.modules !== 'object' || Array.isArray(r.modules)) throw new ConfigError('modules must be a mapping of name to settings');
    for (const [name, m] of Object.entries(r.modules as Record<string, unknown>)) modules[name] = moduleFrom(name, m);
  }
  const listed = r.allow === undefined || r.allow === null ? [] : r.allow;
  if (!Array.isArray(listed) || listed.some((a) => typeof a !== 'string')) throw new ConfigError('allow must be a list of CIDRs or host names');
  const allow = [...(listed as string[]), ...extraAllow];
  const blocks = new BlockList();
  const names = new Set<string>();
  for (const a of allow) {
    const [addr, bits, ...rest] = a.split('/');
    const family = isIP(addr);
    if (family !== 0 && rest.length === 0) {
      const max = family === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (!(prefix >= 0 && prefix <= max)) throw new ConfigError(`allow ${JSON.stringify(a)}: the prefix length must be 0 to ${max}`);
      blocks.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (bits === undefined && NAME.test(a)) {
      names.add(a.toLowerCase().replace(/\.$/, ''));
    } else throw new ConfigError(`allow ${JSON.stringify(a)}: neither a CIDR (198.18.0.0/15, 2001:db8::/32) nor a host name`);
  }
  const allowed = (target: string): boolean => {
    const f = isIP(target);
    if (f !== 0) return blocks.check(target, f === 4 ? 'ipv4' : 'ipv6');
    return names.has(target.toLowerCase().replace(/\.$/, ''));
  };
  const watch = watchFrom(r.watch, modules, allowed);
  return { modules, allow, allowed, ...(watch ? { watch } : {}) };
}

function seconds(where: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !(v >= 0.1) || v > 86_400) throw new ConfigError(`${where} must be seconds, from 0.1 to 86400`);
  return v;
}

/** The `watch:` section: every target must be allowed (watching is probing) and the module known. */
function watchFrom(raw: unknown, modules: Record<string, Module>, allowed: (t: string) => boolean): WatchConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('watch must be a mapping with targets (and module, interval, raise)');
  const w = raw as Record<string, unknown>;
  for (const k of Object.keys(w))
    if (!['targets', 'module', 'interval', 'raise'].includes(k)) throw new ConfigError(`watch: unknown field ${k} (known: targets, module, interval, raise)`);
  const t = w.targets ?? [];
  if (!Array.isArray(t) || t.some((x) => typeof x !== 'string' || x === '')) throw new ConfigError('watch.targets must be a list of addresses or host names');
  const targets = [...new Set(t as string[])];
  if (targets.length > MAX_WATCHED) throw new ConfigError(`watch.targets lists ${targets.length} targets, at most ${MAX_WATCHED}`);
  for (const target of targets)
    if (!allowed(target)) throw new ConfigError(`watch.targets: ${JSON.stringify(target.slice(0, 100))} is not allowed: list it (or its CIDR) under allow:`);
  const module = w.module ?? WATCH_DEFAULTS.module;
  if (typeof module !== 'string' || !Object.hasOwn(modules, module))
    throw new ConfigError(`watch.module: unknown module ${JSON.stringify(module)} (known: ${Object.keys(modules).join(', ')})`);
  return {
    targets,
    module,
    intervalS: seconds('watch.interval', w.interval, WATCH_DEFAULTS.intervalS),
    raiseS: seconds('watch.raise', w.raise, WATCH_DEFAULTS.raiseS),
  };
}

/** Parses YAML text (file contents) into a validated config. */
export function parseConfig(text: string, extraAllow: string[] = []): ServeConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return buildConfig(raw, extraAllow);
}
