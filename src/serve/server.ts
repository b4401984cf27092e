// pathmtu serve: a blackbox_exporter-style HTTP exporter. GET /probe?target=&module= runs discover()
// for one allowed target and answers with a fresh prom-client Registry (as blackbox_exporter builds
// one per probe); /metrics carries the exporter's own metrics and the watched targets' (watched.ts);
// POST /-/reload re-reads the config.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { discover, type DiscoverResult } from '../discover/index.js';
import { packageVersion } from '../package.js';
import type { WatchEvent } from '../watch/types.js';
import type { Module, ServeConfig } from './config.js';
import { Watched } from './watched.js';
import type { WatcherFactory } from './watcher-factory.js';

/**
 * Prometheus' list of default port allocations has filled the exporters' range 9100-9999 (and spills
 * past 10000), so the port is outside it: 11500 (1500, the Ethernet MTU, behind a 1) is assigned to
 * nothing by IANA, unseen in nmap's port-frequency data, and below Linux's ephemeral range (32768+).
 */
export const DEFAULT_PORT = 11500;
/** Taken off Prometheus' scrape timeout so the answer arrives before Prometheus gives up. */
export const TIMEOUT_OFFSET_S = 0.5;
export const MAX_TARGET_LENGTH = 1024;

export interface ServeOptions {
  config: ServeConfig;
  /** Re-reads the config (POST /-/reload, SIGHUP); absent when there is no file. */
  load?: () => ServeConfig;
  /** Probes running at once; beyond it, 503 (default 16). */
  concurrency?: number;
  /** How long a probe's result answers the same (target, module) again, in ms (default 3000; 0: never). */
  cacheMs?: number;
  /** Builds the watcher of the config's watched targets (default: createWatcher). */
  watcherFactory?: WatcherFactory;
  /** Each change of a watched target (the CLI prints them). */
  onWatchChange?: (e: WatchEvent) => void;
  onWatchError?: (e: Error) => void;
}

interface Cached {
  at: number;
  done: Promise<Outcome>;
}

interface Outcome {
  result?: DiscoverResult;
  error?: Error;
  log: string[];
}

export class Exporter {
  config: ServeConfig;
  readonly server: Server;
  private readonly load?: () => ServeConfig;
  private readonly concurrency: number;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, Cached>();
  private inflight = 0;
  /** Most probes seen running at once (tests read it). */
  peakInflight = 0;
  readonly registry = new Registry();
  private readonly probes: Counter<'module' | 'result'>;
  private readonly rejected: Counter<'reason'>;
  private readonly scrapes: Histogram<'module'>;
  private readonly reloads: Counter<'result'>;
  /** The watched targets (config `watch:`), exported on /metrics. */
  readonly watched: Watched;

  constructor(opts: ServeOptions) {
    this.config = opts.config;
    this.load = opts.load;
    this.concurrency = opts.concurrency ?? 16;
    this.cacheMs = opts.cacheMs ?? 3000;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({ name: 'pathmtu_serve_build_info', help: 'pathmtu version serving, always 1', labelNames: ['version', 'node'], registers }).set(
      { version: packageVersion(), node: process.version },
      1,
    );
    this.probes = new Counter({ name: 'pathmtu_serve_probes_total', help: 'Probe runs by module and result (success, failure, error)', labelNames: ['module', 'result'], registers });
    this.rejected = new Counter({ name: 'pathmtu_serve_rejected_requests_total', help: 'Requests answered with an error status, by reason', labelNames: ['reason'], registers });
    this.scrapes = new Histogram({
      name: 'pathmtu_serve_probe_request_duration_seconds',
      help: 'Time to answer /probe requests that ran or reused a probe',
      labelNames: ['module'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.reloads = new Counter({ name: 'pathmtu_serve_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers });
    this.watched = new Watched(this.registry, {
      ...(opts.watcherFactory ? { factory: opts.watcherFactory } : {}),
      ...(opts.onWatchChange ? { onChange: opts.onWatchChange } : {}),
      ...(opts.onWatchError ? { onError: opts.onWatchError } : {}),
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        // Never a crash: whatever escaped becomes a 500.
        if (!res.headersSent) this.reply(res, 500, `internal error: ${(e as Error)?.message ?? String(e)}\n`);
        else res.destroy();
      });
    });
    this.server.on('clientError', (_e, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 310_000;
  }

  /** Re-reads the config (the old one stays on error) and hands its watched targets to the watcher. */
  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    if (this.load === undefined) return { ok: false, error: 'no --config.file to reload' };
    let config: ServeConfig;
    try {
      config = this.load();
    } catch (e) {
      this.reloads.inc({ result: 'failure' });
      return { ok: false, error: (e as Error).message };
    }
    this.config = config;
    this.cache.clear();
    try {
      await this.watched.apply(config);
    } catch (e) {
      // The probe config is in place; the watcher could not be (re)started with the new one.
      this.reloads.inc({ result: 'failure' });
      return { ok: false, error: `watch: ${(e as Error).message}` };
    }
    this.reloads.inc({ result: 'success' });
    return { ok: true };
  }

  private reply(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private reject(res: ServerResponse, status: number, reason: string, text: string): void {
    this.rejected.inc({ reason });
    this.reply(res, status, text + '\n');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 ? '' : raw.slice(q + 1);
    if (path === '/metrics' && req.method === 'GET') {
      this.reply(res, 200, await this.registry.metrics(), this.registry.contentType);
      return;
    }
    if (path === '/-/reload') {
      if (req.method !== 'POST' && req.method !== 'PUT') return this.reject(res, 405, 'method', 'use POST to reload');
      const r = await this.reload();
      if (r.ok) this.reply(res, 200, 'config reloaded\n');
      else this.reject(res, 500, 'reload', `reload failed, the previous config stays: ${r.error}`);
      return;
    }
    if (path === '/-/healthy' || path === '/-/ready') return this.reply(res, 200, 'OK\n');
    if (path === '/') return this.reply(res, 200, 'pathmtu serve: GET /probe?target=ADDRESS&module=NAME, /metrics\n');
    if (path !== '/probe') return this.reject(res, 404, 'not_found', `no ${path.slice(0, 100)} here: use /probe?target=ADDRESS or /metrics`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.reject(res, 405, 'method', 'use GET for /probe');
    return this.probe(query, req, res);
  }

  private async probe(query: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new Map<string, string[]>();
    for (const part of query.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      let k: string, v: string;
      try {
        k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
        v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      } catch {
        return this.reject(res, 400, 'malformed', 'malformed query string: bad %-escape');
      }
      params.set(k, [...(params.get(k) ?? []), v]);
    }
    const one = (k: string): string | undefined | null => {
      const v = params.get(k);
      return v === undefined ? undefined : v.length === 1 ? v[0] : null;
    };
    const target = one('target');
    const moduleName = one('module') ?? 'default';
    if (target === null || moduleName === null) return this.reject(res, 400, 'malformed', 'target and module may each be given once');
    if (target === undefined || target === '') return this.reject(res, 400, 'no_target', 'target parameter is missing, e.g. /probe?target=198.18.0.1');
    if (target.length > MAX_TARGET_LENGTH) return this.reject(res, 400, 'target_too_long', `target is ${target.length} characters long, at most ${MAX_TARGET_LENGTH}`);
    const module = this.config.modules[moduleName];
    if (module === undefined || !Object.hasOwn(this.config.modules, moduleName))
      return this.reject(res, 400, 'unknown_module', `unknown module ${JSON.stringify(moduleName.slice(0, 100))} (known: ${Object.keys(this.config.modules).join(', ')})`);
    if (!this.config.allowed(target)) {
      const how =
        this.config.allow.length === 0
          ? 'no targets are allowed yet: list CIDRs or names under allow: in --config.file, or start with --allow CIDR'
          : `allowed: ${this.config.allow.join(', ')}`;
      return this.reject(res, 403, 'forbidden', `target ${JSON.stringify(target.slice(0, 100))} is not allowed (${how})`);
    }
    const debug = one('debug') === 'true';
    const header = Number(req.headers['x-prometheus-scrape-timeout-seconds']);
    const timeoutS = Math.min(module.timeout, Number.isFinite(header) && header > 0 ? Math.max(header - TIMEOUT_OFFSET_S, 0.1) : module.timeout);

    const key = `${moduleName}\0${target}`;
    const now = Date.now();
    let entry = debug || this.cacheMs === 0 ? undefined : this.cache.get(key);
    if (entry !== undefined && now - entry.at > this.cacheMs) entry = undefined;
    const started = performance.now();
    if (entry === undefined) {
      if (this.inflight >= this.concurrency) return this.reject(res, 503, 'busy', `${this.inflight} probes are running, the most at once; try again`);
      this.inflight++;
      this.peakInflight = Math.max(this.peakInflight, this.inflight);
      const done = this.run(target, module, timeoutS).finally(() => this.inflight--);
      entry = { at: now, done };
      if (!debug && this.cacheMs > 0) {
        if (this.cache.size >= 4096) for (const [k, c] of this.cache) if (now - c.at > this.cacheMs) this.cache.delete(k);
        if (this.cache.size < 4096) this.cache.set(key, entry);
      }
    }
    const outcome = await entry.done;
    const result = outcome.result;
    this.probes.inc({ module: moduleName, result: outcome.error ? 'error' : result?.pmtu != null ? 'success' : 'failure' });
    const registry = probeRegistry(outcome, (performance.now() - started) / 1000);
    this.scrapes.observe({ module: moduleName }, (performance.now() - started) / 1000);
    if (debug) {
      const text = [
        `Module ${moduleName}: ${JSON.stringify(module)}`,
        `Timeout: ${timeoutS} s`,
        'Log:',
        ...outcome.log,
        outcome.error ? `Error: ${outcome.error.message}` : `Result: ${JSON.stringify(result)}`,
        '',
        'Metrics:',
        await registry.metrics(),
      ].join('\n');
      return this.reply(res, 200, text);
    }
    this.reply(res, 200, await registry.metrics(), registry.contentType);
  }

  private async run(target: string, module: Module, timeoutS: number): Promise<Outcome> {
    const log: string[] = [];
    const t0 = performance.now();
    const stamp = (): string => `${((performance.now() - t0) / 1000).toFixed(3)}s`;
    const signal = AbortSignal.timeout(Math.round(timeoutS * 1000));
    try {
      const result = await discover(target, {
        method: module.method,
        family: module.family,
        min: module.min,
        max: module.max,
        signal,
        onEvent: (e) => {
          if (log.length < 500) log.push(`${stamp()} ${JSON.stringify(e)}`);
        },
      });
      return { result, log };
    } catch (e) {
      log.push(`${stamp()} error: ${(e as Error).message}`);
      return { error: e as Error, log };
    }
  }

  /** Listens, then starts watching the config's watched targets. */
  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await this.watched.apply(this.config);
    await this.watched.start();
  }

  async close(): Promise<void> {
    await this.watched.stop();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/** The verdict label of probe_pmtu_info: what kind of answer this was. */
function verdict(r: DiscoverResult): string {
  if (r.aborted) return 'timeout';
  if (r.unreachable && r.pmtu === null) return 'unreachable';
  if (r.pmtu === null) return 'unknown';
  if (r.blackHole) return 'black_hole';
  return r.exact ? 'exact' : 'bounded';
}

function probeRegistry(o: Outcome, seconds: number): Registry {
  const registry = new Registry();
  const registers = [registry];
  const gauge = (name: string, help: string, value: number | null | undefined): void => {
    if (value === null || value === undefined) return;
    new Gauge({ name, help, registers }).set(value);
  };
  const r = o.result;
  gauge('probe_success', 'Whether the path MTU was found', r?.pmtu != null ? 1 : 0);
  gauge('probe_duration_seconds', 'Seconds the probe took', seconds);
  if (r === undefined) return registry;
  gauge('probe_ip_protocol', 'IP version of the probes (4 or 6)', r.family);
  gauge('probe_pmtu_bytes', 'Path MTU in bytes: the largest IP packet that crossed', r.pmtu);
  gauge('probe_pmtu_lower_bound_bytes', 'Largest size known to cross', r.lowerBound);
  gauge('probe_pmtu_upper_bound_bytes', 'Largest size not ruled out (equals the lower bound when exact)', r.upperBound);
  gauge('probe_pmtu_local_mtu_bytes', 'MTU of the interface the route to the target leaves by', r.localMtu);
  gauge('probe_pmtu_kernel_cached_bytes', "The kernel's path MTU for the target after the probe", r.kernelPmtu);
  gauge('probe_pmtu_ptb_received', 'Accepted "packet too big" / "fragmentation needed" reports', r.ptbs.filter((p) => p.accepted).length);
  gauge('probe_pmtu_black_hole', 'Whether sizes above the path MTU vanished without an ICMP error', r.blackHole ? 1 : 0);
  gauge('probe_pmtu_probes_sent', 'Probes sent', r.probes);
  gauge('probe_pmtu_tcp_mss_bytes', 'TCP MSS that fits the path MTU (IP and TCP headers off)', r.pmtu === null ? null : r.pmtu - (r.family === 4 ? 40 : 60));
  new Gauge({ name: 'probe_pmtu_info', help: 'How the path MTU was found', labelNames: ['method', 'direction', 'verdict'], registers }).set(
    { method: r.method, direction: r.direction, verdict: verdict(r) },
    1,
  );
  return registry;
}
