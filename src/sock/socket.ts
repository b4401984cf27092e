// ProbeSocket: the TypeScript face of the binding. One fd, one uv_poll_t, typed events.
//
// Readiness: the binding polls the fd for readability. The kernel signals a pending error-queue
// entry (IP_RECVERR) with POLLERR, which libuv reports as status UV_EBADF after stopping the
// handle, without saying whether data is waiting too; we then drain MSG_ERRQUEUE AND the data
// queue, and restart. (Draining only the error queue starves the data queue for as long as errors
// keep coming: a flood of ICMP errors on a raw socket.) A plain recv may also fail with the
// pending socket error an ICMP error left (ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ...): that just
// means "look in the error queue". Any other failure is reported as an 'error' event.
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import { PermissionError, SystemCallError, UsageError } from '../errors.js';
import { decodeExtendedError, type ExtendedError } from './errqueue.js';
import { canonicalIp, zoneOf } from '../wire/addr.js';
import { decodeInet, encodeInet } from './sockaddr.js';
import { c, check, native, type NativePoller, type RecvResult } from './binding.js';

export type SocketKind = 'udp' | 'icmp-raw' | 'icmp-dgram' | 'tcp-raw';
export type PmtuMode = 'dont' | 'want' | 'do' | 'probe' | 'interface' | 'omit';

export interface Message {
  data: Buffer;
  /** Sender address (for raw IPv4 sockets data begins with the IP header; IPv6 raw sockets strip it). */
  from: string;
  port: number;
  /** Received TTL / hop limit, when enabled with receiveTtl(). */
  ttl?: number;
  /** process.hrtime.bigint() when the datagram was read. */
  receivedAt: bigint;
  /** When the kernel received it, in ns since the epoch (SO_TIMESTAMPNS), when enabled with receiveTimestamps(). */
  kernelTime?: bigint;
  truncated: boolean;
}

export interface ErrQueueEntry extends ExtendedError {
  /** The original destination the failed datagram was addressed to. */
  destination: string | null;
  destinationPort: number;
  /** Payload of the original datagram as the kernel quotes it (UDP payload, ICMP message, ...). */
  payload: Buffer;
  receivedAt: bigint;
  ttl?: number;
}

export interface ProbeSocketEvents {
  message: [Message];
  errqueue: [ErrQueueEntry];
  error: [Error];
  close: [];
}

/** Most datagrams (and, separately, error-queue entries) read per readiness callback. */
const MAX_DRAIN = 1024;

export type SendResult = { ok: true } | { ok: false; errno: number; localMtu?: number };

/**
 * Errors a send or receive may return on behalf of an earlier ICMP error (the pending sk_err an
 * ICMP error leaves with IP_RECVERR, or an unreachable on a connected socket): worth a retry, and
 * the details are on the error queue. Every value the kernel maps ICMP and ICMPv6 errors to
 * (icmp_err_convert, icmpv6_err_convert), EHOSTDOWN and ENONET from the binding (Node lacks them).
 */
let retryable: Set<number> | undefined;
function isRetryable(errno: number): boolean {
  retryable ??= new Set([
    ...(['EMSGSIZE', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EPROTO', 'EACCES', 'ENOPROTOOPT', 'ETIMEDOUT', 'ECONNRESET', 'EOPNOTSUPP'] as const).map(
      (n) => osConstants.errno[n],
    ),
    c('EHOSTDOWN'),
    c('ENONET'),
  ]);
  return retryable.has(errno);
}

/** How to get the privilege each kind needs; the error message names the way out. */
function wayOut(kind: SocketKind, family: 4 | 6): PermissionError {
  if (kind === 'icmp-dgram') {
    return new PermissionError(
      `an unprivileged ICMP${family === 6 ? 'v6' : ''} socket`,
      "a group listed in net.ipv4.ping_group_range",
      (n) => `Allow it with: sysctl -w net.ipv4.ping_group_range='0 2147483647', or use ${n('method', 'udp')} (needs no privilege).`,
    );
  }
  return new PermissionError(
    `a raw ${kind === 'tcp-raw' ? 'TCP' : 'ICMP'} socket`,
    'CAP_NET_RAW (root)',
    (n) => `Run as root, or grant the capability once: sudo setcap cap_net_raw+ep "$(readlink -f "$(command -v node)")", or use ${n('method', 'udp')} (needs no privilege).`,
  );
}

export class ProbeSocket extends EventEmitter<ProbeSocketEvents> {
  readonly family: 4 | 6;
  readonly kind: SocketKind;
  #fd: number;
  #poller: NativePoller | null = null;
  #closed = false;
  #recvTtl = false;
  #timestamps = false;
  /** IP_RECVERR is off, turned on only to learn a local refusal's MTU (receiveLocalErrorsOnly). */
  #localErrorsOnly = false;
  #maxData = 65535;

  private constructor(fd: number, family: 4 | 6, kind: SocketKind) {
    super();
    this.#fd = fd;
    this.family = family;
    this.kind = kind;
  }

  /** Open a socket of a kind; privilege failures become PermissionError with the way out. */
  static open(kind: SocketKind, family: 4 | 6): ProbeSocket {
    if (family !== 4 && family !== 6) throw new UsageError(`family must be 4 or 6, got ${String(family)}`);
    const domain = c(family === 4 ? 'AF_INET' : 'AF_INET6');
    const icmp = c(family === 4 ? 'IPPROTO_ICMP' : 'IPPROTO_ICMPV6');
    let type: number;
    let proto: number;
    switch (kind) {
      case 'udp': type = c('SOCK_DGRAM'); proto = c('IPPROTO_UDP'); break;
      case 'icmp-raw': type = c('SOCK_RAW'); proto = icmp; break;
      case 'icmp-dgram': type = c('SOCK_DGRAM'); proto = icmp; break;
      case 'tcp-raw': type = c('SOCK_RAW'); proto = c('IPPROTO_TCP'); break;
      default: throw new UsageError(`unknown socket kind ${String(kind)}`);
    }
    const fd = native().socket(domain, type, proto);
    if (fd < 0) {
      if (fd === -c_errno('EPERM') || fd === -c_errno('EACCES')) throw wayOut(kind, family);
      throw new SystemCallError('socket', -fd);
    }
    return new ProbeSocket(fd, family, kind);
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #live(): number {
    if (this.#closed) throw new SystemCallError('socket', c_errno('EBADF'), 'socket is closed');
    return this.#fd;
  }

  bind(address: string, port = 0): this {
    check('bind', native().bind(this.#live(), this.#sockaddr(address, port)));
    return this;
  }

  connect(address: string, port = 0): this {
    check('connect', native().connect(this.#live(), this.#sockaddr(address, port)));
    return this;
  }

  /** sockaddr bytes for an address; an IPv6 zone (fe80::1%eth0) becomes the scope id. */
  #sockaddr(address: string, port: number): Buffer {
    const zone = zoneOf(address);
    return encodeInet({ family: this.family, address, port, ...(zone !== null ? { scopeId: interfaceIndex(zone) } : {}) });
  }

  /** Local address and port (after bind/connect or the first send). */
  localAddress(): { address: string; port: number } {
    const sa = decodeInet(check<Buffer>('getsockname', native().getsockname(this.#live())));
    return { address: sa?.address ?? '', port: sa?.port ?? 0 };
  }

  setOption(level: number, name: number, value: number | Buffer): void {
    check('setsockopt', native().setsockopt(this.#live(), level, name, value));
  }

  getOptionInt(level: number, name: number): number {
    const b = check<Buffer>('getsockopt', native().getsockopt(this.#live(), level, name, 4));
    if (b.length < 4) throw new SystemCallError('getsockopt', c_errno('EINVAL'), 'short option value');
    return b.readInt32LE(0);
  }

  getOption(level: number, name: number, maxLength: number): Buffer {
    return check<Buffer>('getsockopt', native().getsockopt(this.#live(), level, name, maxLength));
  }

  #ipLevel(): number {
    return c(this.family === 4 ? 'IPPROTO_IP' : 'IPPROTO_IPV6');
  }

  /** PMTU discovery mode. 'probe' sets DF (IPv6: never fragments) and ignores the cached PMTU. */
  setPmtuMode(mode: PmtuMode): void {
    const v4 = { dont: 'IP_PMTUDISC_DONT', want: 'IP_PMTUDISC_WANT', do: 'IP_PMTUDISC_DO', probe: 'IP_PMTUDISC_PROBE', interface: 'IP_PMTUDISC_INTERFACE', omit: 'IP_PMTUDISC_OMIT' } as const;
    const value = c(v4[mode]); // IPv6 uses the same numbers (IPV6_PMTUDISC_* = IP_PMTUDISC_*)
    this.setOption(this.#ipLevel(), c(this.family === 4 ? 'IP_MTU_DISCOVER' : 'IPV6_MTU_DISCOVER'), value);
  }

  /** Queue ICMP errors and local errors on the error queue (IP_RECVERR / IPV6_RECVERR). */
  receiveErrors(on = true): void {
    this.setOption(this.#ipLevel(), c(this.family === 4 ? 'IP_RECVERR' : 'IPV6_RECVERR'), on ? 1 : 0);
  }

  /**
   * Keep IP_RECVERR off, and turn it on only for the moment it takes to learn the MTU of a local
   * EMSGSIZE (sendProbe). For a raw ICMP socket, which reads routers' errors whole on its data path
   * (filtered in the kernel by BPF): with IP_RECVERR on, the kernel also queues every ICMP error that
   * quotes any ICMP packet from this host on the error queue — unfiltered, charged to the receive
   * buffer — so a flood of forged errors fills the buffer and the echo replies are dropped (measured:
   * 120,000 drops in a 20 s run at 40k pps of forgeries, the buffer full throughout).
   */
  receiveLocalErrorsOnly(): void {
    this.receiveErrors(false);
    this.#localErrorsOnly = true;
  }

  /** Report each datagram's TTL / hop limit. */
  receiveTtl(on = true): void {
    this.setOption(this.#ipLevel(), c(this.family === 4 ? 'IP_RECVTTL' : 'IPV6_RECVHOPLIMIT'), on ? 1 : 0);
    this.#recvTtl = on;
  }

  /** Ask the kernel to stamp each datagram with its arrival time (SO_TIMESTAMPNS): Message.kernelTime. */
  receiveTimestamps(on = true): void {
    this.setOption(c('SOL_SOCKET'), c('SO_TIMESTAMPNS'), on ? 1 : 0);
    this.#timestamps = on;
  }

  /**
   * Ask for a receive buffer of `bytes` (SO_RCVBUFFORCE when privileged, past net.core.rmem_max;
   * else SO_RCVBUF, capped by it). Returns what the kernel granted (it doubles the request for its
   * bookkeeping, and reports that).
   */
  receiveBuffer(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 1024 || bytes > 1 << 28) throw new UsageError(`receive buffer must be 1024..${1 << 28} bytes, got ${bytes}`);
    const fd = this.#live();
    if (native().setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUFFORCE'), bytes) < 0) this.setOption(c('SOL_SOCKET'), c('SO_RCVBUF'), bytes);
    return this.getOptionInt(c('SOL_SOCKET'), c('SO_RCVBUF'));
  }

  /** Default TTL / unicast hop limit for packets from this socket. */
  setTtl(ttl: number): void {
    this.setOption(this.#ipLevel(), c(this.family === 4 ? 'IP_TTL' : 'IPV6_UNICAST_HOPS'), ttl);
  }

  /** The kernel's path MTU for the connected destination (IP_MTU / IPV6_MTU; connected sockets only). */
  pathMtu(): number {
    return this.getOptionInt(this.#ipLevel(), c(this.family === 4 ? 'IP_MTU' : 'IPV6_MTU'));
  }

  /**
   * Send one datagram. `ttl` applies to this packet only (IP_TTL / IPV6_HOPLIMIT control message).
   * Returns bytes sent; throws SystemCallError (e.g. EMSGSIZE when bigger than the interface MTU).
   */
  send(data: Buffer, to?: { address: string; port?: number }, opts: { ttl?: number } = {}): number {
    const fd = this.#live();
    const name = to ? this.#sockaddr(to.address, to.port ?? 0) : null;
    let control: Array<[number, number, Buffer]> | null = null;
    if (opts.ttl !== undefined) {
      if (!Number.isInteger(opts.ttl) || opts.ttl < 1 || opts.ttl > 255) throw new UsageError(`ttl must be 1..255, got ${opts.ttl}`);
      const v = Buffer.alloc(4);
      v.writeInt32LE(opts.ttl, 0);
      control = [[this.#ipLevel(), c(this.family === 4 ? 'IP_TTL' : 'IPV6_HOPLIMIT'), v]];
    }
    return check<number>('sendmsg', native().sendmsg(fd, data, name, control, 0));
  }

  /** Like send() but returns the negative errno instead of throwing (hot path of probing). */
  trySend(data: Buffer, to?: { address: string; port?: number }, opts: { ttl?: number } = {}): number {
    try {
      return this.send(data, to, opts);
    } catch (err) {
      if (err instanceof SystemCallError) return err.errno;
      throw err;
    }
  }

  /**
   * Send a probe and tell a genuine local refusal from a stale one. With IP_RECVERR, every ICMP error
   * also leaves a pending socket error that the NEXT send returns (sock_alloc_send_pskb reports
   * sk_err), so a failed send may speak of an earlier probe. We drain the error queue (delivering
   * those entries as events) and retry; only a LOCAL EMSGSIZE entry for this very destination means
   * this datagram exceeds the interface MTU.
   */
  sendProbe(data: Buffer, to: { address: string; port?: number }, opts: { ttl?: number } = {}): SendResult {
    if (this.#localErrorsOnly) return this.#sendLearningLocalMtu(data, to, opts);
    let lastErrno = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      const r = this.trySend(data, to, opts);
      if (r >= 0) return { ok: true };
      // ENOBUFS: the packet left the socket but the device dropped it (e.g. a veth peer refusing an
      // oversized frame). To the path that is plain loss, which the search handles.
      if (r === -c_errno('ENOBUFS')) return { ok: true };
      lastErrno = -r;
      let localMtu: number | undefined;
      const dst = canonicalIp(to.address); // as the kernel reports it: canonical, without a zone
      const watch = (e: ErrQueueEntry): void => {
        if (e.origin === 'local' && e.errno === c_errno('EMSGSIZE') && e.destination === dst) localMtu = e.info;
      };
      this.on('errqueue', watch);
      try {
        this.drainErrors();
      } finally {
        this.off('errqueue', watch);
      }
      if (localMtu !== undefined) return { ok: false, errno: lastErrno, localMtu };
      if (!isRetryable(lastErrno)) return { ok: false, errno: lastErrno };
    }
    return { ok: false, errno: lastErrno };
  }

  /**
   * sendProbe without IP_RECVERR: no pending errors from earlier probes, so a failure is this send's.
   * On EMSGSIZE, the error queue is switched on for one more try, which queues the LOCAL entry with
   * the MTU, and off again (which also purges whatever else arrived meanwhile).
   */
  #sendLearningLocalMtu(data: Buffer, to: { address: string; port?: number }, opts: { ttl?: number }): SendResult {
    const r = this.trySend(data, to, opts);
    if (r >= 0 || r === -c_errno('ENOBUFS')) return { ok: true };
    if (r !== -c_errno('EMSGSIZE')) return { ok: false, errno: -r };
    const dst = canonicalIp(to.address);
    let localMtu: number | undefined;
    const watch = (e: ErrQueueEntry): void => {
      if (e.origin === 'local' && e.errno === c_errno('EMSGSIZE') && e.destination === dst) localMtu = e.info;
    };
    this.receiveErrors(true);
    this.on('errqueue', watch);
    try {
      const again = this.trySend(data, to, opts);
      if (again >= 0) return { ok: true };
      this.drainErrors();
      return localMtu !== undefined ? { ok: false, errno: -again, localMtu } : { ok: false, errno: -again };
    } finally {
      this.off('errqueue', watch);
      this.receiveErrors(false);
    }
  }

  /** Start delivering 'message' and 'errqueue' events. Idempotent. */
  start(): this {
    const fd = this.#live();
    if (this.#poller === null) {
      this.#poller = new (native().Poller)(fd, (status, events) => this.#onPoll(status, events));
    }
    const r = this.#poller.start(c('UV_READABLE'));
    if (r < 0) throw new SystemCallError('uv_poll_start', -r);
    return this;
  }

  /** Let the process exit even while this socket is polled (like socket.unref()). */
  unref(): this {
    this.#poller?.unref();
    return this;
  }

  ref(): this {
    this.#poller?.ref();
    return this;
  }

  #onPoll(status: number, events: number): void {
    if (this.#closed) return;
    try {
      if (status < 0) {
        // POLLERR: libuv stopped the handle and does not say whether data waits as well. Read
        // both queues (each bounded, so a flood cannot hold the loop), then poll again.
        this.drainErrors();
        this.drain();
        if (!this.#closed) {
          const r = this.#poller?.start(c('UV_READABLE')) ?? 0;
          if (r < 0) this.emit('error', new SystemCallError('uv_poll_start', -r));
        }
        return;
      }
      if (events & c('UV_READABLE')) this.drain();
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /**
   * Read the queued datagrams (at most MAX_DRAIN); returns how many. A pending socket error that an
   * ICMP error left is consumed and reading goes on (its details wait on the error queue, whose
   * POLLERR brings us back); any other failure is emitted as 'error' and ends the drain.
   */
  drain(): number {
    let n = 0;
    let pending = 0;
    while (!this.#closed && n < MAX_DRAIN && pending < MAX_DRAIN) {
      const r = native().recvmsg(this.#fd, this.#maxData, 256, 0);
      if (typeof r === 'number') {
        if (r === -c_errno('EAGAIN')) break;
        if (r === -c_errno('EINTR')) continue;
        if (!isRetryable(-r)) {
          this.emit('error', new SystemCallError('recvmsg', -r));
          break;
        }
        // Consumed by this call; its details are on the error queue, read on the next POLLERR.
        pending++;
        continue;
      }
      n++;
      this.emit('message', this.#toMessage(r));
    }
    return n;
  }

  /** Read the error-queue entries (at most MAX_DRAIN); returns how many. A failure other than an empty queue is emitted as 'error'. */
  drainErrors(): number {
    let n = 0;
    while (!this.#closed && n < MAX_DRAIN) {
      const r = native().recvmsg(this.#fd, this.#maxData, 512, c('MSG_ERRQUEUE'));
      if (typeof r === 'number') {
        if (r === -c_errno('EINTR')) continue;
        if (r !== -c_errno('EAGAIN')) this.emit('error', new SystemCallError('recvmsg(MSG_ERRQUEUE)', -r));
        break;
      }
      n++;
      const entry = this.#toErrEntry(r);
      if (entry) this.emit('errqueue', entry);
    }
    return n;
  }

  #ttlFrom(r: RecvResult): number | undefined {
    const lvl = this.#ipLevel();
    const want = this.family === 4 ? c('IP_TTL') : c('IPV6_HOPLIMIT');
    for (const cm of r.control) {
      if (cm.level === lvl && cm.type === want && cm.data.length >= 1) {
        return cm.data.length >= 4 ? cm.data.readInt32LE(0) : cm.data[0];
      }
    }
    return undefined;
  }

  #toMessage(r: RecvResult): Message {
    let from = '';
    let port = 0;
    try {
      const sa = decodeInet(r.name);
      from = sa?.address ?? '';
      port = sa?.port ?? 0;
    } catch {
      // an address we cannot read: leave it empty rather than drop the datagram
    }
    return {
      data: r.data,
      from,
      port,
      ttl: this.#recvTtl ? this.#ttlFrom(r) : undefined,
      receivedAt: process.hrtime.bigint(),
      kernelTime: this.#timestamps ? kernelTime(r) : undefined,
      truncated: r.length > r.data.length,
    };
  }

  #toErrEntry(r: RecvResult): ErrQueueEntry | null {
    const lvl = this.#ipLevel();
    const want = this.family === 4 ? c('IP_RECVERR') : c('IPV6_RECVERR');
    for (const cm of r.control) {
      if (cm.level !== lvl || cm.type !== want) continue;
      let ee: ExtendedError;
      try {
        ee = decodeExtendedError(cm.data);
      } catch (err) {
        this.emit('error', err as Error);
        return null;
      }
      let destination: string | null = null;
      let destinationPort = 0;
      try {
        const sa = decodeInet(r.name);
        destination = sa?.address ?? null;
        destinationPort = sa?.port ?? 0;
      } catch {
        // unreadable: leave null
      }
      return {
        ...ee,
        destination,
        destinationPort,
        payload: r.data,
        receivedAt: process.hrtime.bigint(),
        ttl: this.#recvTtl ? this.#ttlFrom(r) : undefined,
      };
    }
    return null;
  }

  /** Stop polling and close the fd. Safe to call while a poll callback is running, and twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller?.stop();
    this.#poller?.close();
    this.#poller = null;
    native().close(this.#fd);
    this.#fd = -1;
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The index of a network interface in this thread's namespace, from its name or number — what an
 * IPv6 zone (fe80::1%eth0, fe80::1%2) names. Throws UsageError for an interface that is not there.
 */
export function interfaceIndex(zone: string): number {
  if (/^\d+$/.test(zone)) return Number(zone);
  const index = native().ifNameToIndex(zone);
  if (index < 0) throw new UsageError(`no network interface named '${zone}' here (the zone of a link-local address)`);
  return index;
}

/** SCM_TIMESTAMPNS carries a struct timespec (two 64-bit fields on 64-bit Linux). */
function kernelTime(r: RecvResult): bigint | undefined {
  for (const cm of r.control) {
    if (cm.level === c('SOL_SOCKET') && cm.type === c('SO_TIMESTAMPNS') && cm.data.length >= 16) {
      return cm.data.readBigInt64LE(0) * 1_000_000_000n + cm.data.readBigInt64LE(8);
    }
  }
  return undefined;
}

function c_errno(name: keyof typeof osConstants.errno): number {
  return osConstants.errno[name];
}
