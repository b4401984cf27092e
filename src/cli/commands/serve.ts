// pathmtu serve: the Prometheus exporter (blackbox_exporter's /probe conventions and flag names).
// Parses flags, reads the YAML config, listens, reloads on SIGHUP, stops on Ctrl-C / SIGTERM.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { buildConfig, ConfigError, DEFAULT_PORT, Exporter, parseConfig, type ServeConfig } from '../../serve/index.js';
import { EXIT_OK, EXIT_USAGE, type Command, type Io, type ParseArgsOptionsConfig } from '../command.js';

const help = `pathmtu serve — a Prometheus exporter: the path MTU of a target on each scrape

Usage:
  pathmtu serve [--config.file FILE] [--allow CIDR]... [--web.listen-address HOST:PORT]

GET /probe?target=ADDRESS&module=NAME runs discover for one target with the module's settings
and answers in the Prometheus text format (probe_success, probe_duration_seconds,
probe_ip_protocol, probe_pmtu_bytes, probe_pmtu_lower_bound_bytes, probe_pmtu_upper_bound_bytes,
probe_pmtu_local_mtu_bytes, probe_pmtu_kernel_cached_bytes, probe_pmtu_ptb_received,
probe_pmtu_black_hole, probe_pmtu_probes_sent, probe_pmtu_tcp_mss_bytes, probe_pmtu_info), as
blackbox_exporter does: scrape it with the multi-target relabelling (examples/prometheus.yml).
&debug=true returns the probe's log and the module instead. The timeout is Prometheus'
X-Prometheus-Scrape-Timeout-Seconds less 0.5 s, at most the module's. A result is reused for 3 s
for the same (target, module), so an HA pair of Prometheus servers does not probe twice.
/metrics: the exporter's own metrics, and the targets listed under watch: in the config, kept
current by the watch engine (pathmtu_watch_pmtu_bytes, pathmtu_watch_up, pathmtu_watch_black_hole,
pathmtu_watch_changes_total, pathmtu_watch_last_change_timestamp_seconds,
pathmtu_watch_probes_sent_total; labels target and module), so a scrape costs no probing; each
change is also printed on stderr. POST /-/reload or SIGHUP re-reads the config file.

Only allowed targets are probed (others get HTTP 403): list CIDRs or host names under allow: in
the config, or with --allow. With none, nothing is allowed. At most 16 probes run at once (503).

Options:
      --config.file FILE          YAML: modules (method, family, min, max, timeout), allow, watch
      --config.check              validate the config, print it, exit 0 (valid) or 2
      --web.listen-address ADDR   where to listen (default 127.0.0.1:${DEFAULT_PORT}; ':${DEFAULT_PORT}' = all)
      --allow CIDR|NAME           allow probing these targets (repeatable, added to the config's)
  -h, --help                      this help

Config example:
  modules:
    icmp_v6: { method: icmp, family: 6, timeout: 5 }
  allow: [198.18.0.0/15, 2001:db8::/32]
  watch: { targets: [198.18.3.2, 2001:db8:3::2], module: default, interval: 60, raise: 600 }
The built-in module 'default' uses method auto with a 10 s timeout.

Port ${DEFAULT_PORT}: Prometheus' default port allocations fill the exporters' range 9100-9999,
so the default is outside it, on a port IANA assigns to nothing (1500: the Ethernet MTU).
Runs as a non-root user with CAP_NET_RAW (examples/pathmtu-serve.service), or with no privilege
using the icmp-dgram (ping socket) or udp method.

Exit status: 0 stopped by Ctrl-C/SIGTERM or --config.check passed, 2 usage or config error.
`;

const options = {
  'config.file': { type: 'string' },
  'config.check': { type: 'boolean' },
  'web.listen-address': { type: 'string' },
  allow: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsOptionsConfig;

/** HOST:PORT, [V6]:PORT or :PORT (all addresses). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new UsageError(`--web.listen-address must be HOST:PORT, [V6]:PORT or :PORT, got '${text}'`);
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(m[1]) !== 6) throw new UsageError(`--web.listen-address: '${m[1]}' is not an IPv6 address`);
  return { host: host === '' ? '::' : host, port };
}

function loadConfig(file: string | undefined, allow: string[]): ServeConfig {
  if (file === undefined) return buildConfig({}, allow);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseConfig(text, allow);
}

async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options });
  if (positionals.length > 0) throw new UsageError(`serve takes no targets (got ${positionals.join(' ')}): Prometheus names them in /probe?target=`);
  const file = values['config.file'];
  const allow = values.allow ?? [];
  const listen = parseListen(values['web.listen-address'] ?? `127.0.0.1:${DEFAULT_PORT}`);
  let config: ServeConfig;
  try {
    config = loadConfig(file, allow);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`pathmtu serve: bad config${file ? ` ${file}` : ''}: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (values['config.check']) {
    io.stdout.write(`config ${file ?? '(built-in)'} is valid\nmodules:\n`);
    for (const [name, m] of Object.entries(config.modules)) io.stdout.write(`  ${name}: ${JSON.stringify(m)}\n`);
    io.stdout.write(`allow: ${config.allow.length === 0 ? '(nothing: add allow: or --allow CIDR)' : config.allow.join(', ')}\n`);
    const w = config.watch;
    io.stdout.write(w ? `watch: ${w.targets.length} targets, module ${w.module}, interval ${w.intervalS} s, raise ${w.raiseS} s\n` : 'watch: (nothing)\n');
    return EXIT_OK;
  }
  const exporter = new Exporter({
    config,
    ...(file !== undefined ? { load: () => loadConfig(file, allow) } : {}),
    onWatchChange: (e) =>
      io.stderr.write(`pathmtu serve: ${e.time} ${e.target} ${e.previous ?? '-'} -> ${e.pmtu ?? 'unknown'} (${e.reason}: ${e.detail})\n`),
    onWatchError: (e) => io.stderr.write(`pathmtu serve: watch: ${e.message}\n`),
  });
  try {
    await exporter.listen(listen.port, listen.host);
  } catch (e) {
    throw new UsageError(`cannot listen on ${values['web.listen-address'] ?? `127.0.0.1:${DEFAULT_PORT}`}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const addr = exporter.server.address();
  const where = typeof addr === 'object' && addr !== null ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  io.stderr.write(`pathmtu serve: listening on http://${where}/ (allowed: ${config.allow.length === 0 ? 'nothing yet' : config.allow.join(', ')})\n`);
  const onHup = (): void => {
    void exporter.reload().then((r) =>
      io.stderr.write(r.ok ? 'pathmtu serve: config reloaded\n' : `pathmtu serve: reload failed, the previous config stays: ${r.error}\n`),
    );
  };
  process.on('SIGHUP', onHup);
  const stop = new AbortController();
  const onTerm = (): void => stop.abort();
  process.on('SIGTERM', onTerm);
  try {
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onTerm);
    await exporter.close();
  }
  return EXIT_OK;
}

export const serveCommand: Command = { name: 'serve', help, options, run };
