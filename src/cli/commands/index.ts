// Registry of subcommands, in the order --help lists them. Each command's module is loaded only
// when it runs, so `pathmtu <host>` does not pay for loading trace, check-server and the rest.
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  /** One line for the top-level --help. */
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'discover', summary: 'the exact path MTU to a host (the default command)', load: async () => (await import('./discover.js')).discoverCommand },
  { name: 'trace', summary: 'the path hop by hop: MTU after each hop, black holes located', load: async () => (await import('./trace.js')).traceCommand },
  { name: 'explain', summary: 'what an MTU number means (PPPoE, VXLAN, WireGuard...) and the commands that fix it', load: async () => (await import('./explain.js')).explainCommand },
  { name: 'ping', summary: 'ping with DF set: replies, "too big" answers with MTU and router, sweeps', load: async () => (await import('./ping.js')).pingCommand },
  { name: 'cache', summary: "the kernel's cached path MTUs: show, explain, flush", load: async () => (await import('./cache.js')).cacheCommand },
  { name: 'inject', summary: 'send a crafted frag-needed / packet-too-big to a host (testing)', load: async () => (await import('./inject.js')).injectCommand },
  { name: 'check-server', summary: 'does a TCP server honour "packet too big"? (sends it one, watches its segments)', load: async () => (await import('./check-server.js')).checkServerCommand },
  { name: 'doctor', summary: 'why PMTUD fails here: privileges, sysctls, firewall, routes; the fix for each', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'watch', summary: 'keep path MTUs true over time (RFC 8899 timers): an event per change, a live table', load: async () => (await import('./watch.js')).watchCommand },
  { name: 'serve', summary: 'a Prometheus exporter: /probe?target= answers with the path MTU (blackbox_exporter style)', load: async () => (await import('./serve.js')).serveCommand },
  { name: 'demo', summary: 'build a lab network of real routers, run discover and trace through it, tear it down', load: async () => (await import('./demo.js')).demoCommand },
];
