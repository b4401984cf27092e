// Servers for the check-server lab tests, started in the lab's server namespace, and the server
// kernel's own view of what our PTB did to it.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../src/lab/index.js';

export const PORT = 8000;

/**
 * Seed 004's server: accept one connection and send 1600-byte chunks until the client goes (or
 * 8 s pass). `setup` is Python run on the listening socket `s` before accept.
 */
export async function seedServer(lab: Lab, family: 4 | 6, setup = ''): Promise<ChildProcess> {
  const addr = family === 4 ? lab.server.v4 : lab.server.v6;
  const py = [
    'import os, socket, time',
    `s = socket.socket(socket.AF_INET${family === 6 ? '6' : ''})`,
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    setup,
    `s.bind(('${addr}', ${PORT}))`,
    's.listen(5)',
    "print('ready', flush=True)",
    'c, _ = s.accept()',
    'chunk = os.urandom(1600)',
    't = time.time()',
    'try:',
    '    while time.time() - t < 8:',
    '        c.sendall(chunk)',
    'except OSError:',
    '    pass',
  ].join('\n');
  const child = lab.spawn('server', ['python3', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  return child;
}

/** The server kernel's cached PMTU towards the client ("mtu 1280", "mtu lock 552"), or null. */
export async function serverCachedMtu(lab: Lab, family: 4 | 6): Promise<{ mtu: number; locked: boolean } | null> {
  const r = await lab.exec('server', ['ip', `-${family}`, 'route', 'get', family === 4 ? lab.client.v4 : lab.client.v6]);
  const m = /\bmtu (lock )?(\d+)/.exec(r.stdout);
  return m ? { mtu: Number(m[2]), locked: m[1] !== undefined } : null;
}

/** Run fn with this thread in the client namespace (sockets opened there live there). */
export async function fromClient<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  lab.enter('client');
  try {
    return await fn();
  } finally {
    lab.leave();
  }
}

/** nginx from Debian's package, on Debian's default-like settings, serving a 200 KB file. */
export async function startNginx(lab: Lab): Promise<{ dir: string; child: ChildProcess }> {
  const dir = mkdtempSync(join(tmpdir(), 'pathmtu-nginx-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(200 * 1024, 0x61));
  // Small enough to arrive whole before the PTB (it fits in our receive window).
  writeFileSync(join(dir, 'mid.bin'), Buffer.alloc(20 * 1024, 0x62));
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'daemon off;',
      'master_process off;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log;`,
      'events { worker_connections 64; }',
      'http {',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_timeout 65;',
      '  types_hash_max_size 2048;',
      '  default_type application/octet-stream;',
      '  access_log off;',
      `  client_body_temp_path ${dir}/body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      '  server {',
      `    listen ${lab.server.v4}:${PORT};`,
      `    listen [${lab.server.v6}]:${PORT};`,
      `    root ${dir};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child = lab.spawn('server', ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const ss = await lab.exec('server', ['ss', '-Hltn', `sport = :${PORT}`]);
    if (ss.stdout.split('\n').filter((l) => l.trim() !== '').length >= 2) return { dir, child };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nginx did not start listening (see ${dir}/error.log)`);
}
