// A NETLINK_ROUTE socket for request/response: send one request, collect the kernel's answers until
// NLMSG_DONE (a dump), an NLMSG_ERROR (an ack or a refusal) or the single reply of a plain request.
// The fd is non-blocking (the binding opens every socket so); readiness comes from the binding's
// Poller (one uv_poll_t), with a deadline and an AbortSignal so a silent kernel cannot hang us.
import { constants as osConstants } from 'node:os';
import { AbortError, SystemCallError } from '../errors.js';
import { c, check, native, type NativePoller } from '../sock/binding.js';
import * as nl from '../wire/netlink.js';
import { encodeNetlink } from '../sock/sockaddr.js';

const EAGAIN = osConstants.errno.EAGAIN;
const EINTR = osConstants.errno.EINTR;
/** Large enough for a dump datagram (the kernel packs up to ~32 KiB per recvmsg). */
const RECV_BUFFER = 65536;

export interface RequestOptions {
  /** Give up after this many ms (default 2000). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class NetlinkSocket {
  #fd: number;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #closed = false;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Open and bind (pid 0: the kernel assigns our port id). */
  static open(): NetlinkSocket {
    const fd = check<number>('socket', native().socket(c('AF_NETLINK'), c('SOCK_RAW'), c('NETLINK_ROUTE')));
    const r = native().bind(fd, encodeNetlink(0, 0));
    if (r < 0) {
      native().close(fd);
      throw new SystemCallError('bind', -r);
    }
    return new NetlinkSocket(fd);
  }

  /**
   * Send `type` with `payload` and resolve with every answer message of our sequence number, the
   * final NLMSG_DONE / ack not included. A negative NLMSG_ERROR rejects with SystemCallError.
   */
  async request(type: number, flags: number, payload: Buffer, opts: RequestOptions = {}): Promise<nl.NetlinkMessage[]> {
    if (this.#closed) throw new SystemCallError('sendmsg', osConstants.errno.EBADF, 'netlink socket is closed');
    opts.signal?.throwIfAborted();
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const msg = nl.encode({ type, flags: flags | nl.NLM_F_REQUEST, seq, pid: 0, payload });
    check('sendmsg', native().sendmsg(this.#fd, msg, encodeNetlink(0, 0), null, 0));
    const dump = (flags & nl.NLM_F_DUMP) === nl.NLM_F_DUMP;
    const wantAck = (flags & nl.NLM_F_ACK) !== 0;
    const out: nl.NetlinkMessage[] = [];

    // Returns true when the exchange is complete.
    const take = (): boolean => {
      for (;;) {
        const r = native().recvmsg(this.#fd, RECV_BUFFER, 0, 0);
        if (typeof r === 'number') {
          if (r === -EINTR) continue;
          if (r === -EAGAIN) return false;
          throw new SystemCallError('recvmsg', -r);
        }
        for (const m of nl.decode(r.data.subarray(0, Math.min(r.length, r.data.length)))) {
          if (m.seq !== seq) continue; // a late answer to an earlier request
          if (m.type === nl.NLMSG_DONE) return true;
          if (m.type === nl.NLMSG_ERROR) {
            const e = nl.decodeError(m.payload);
            if (e.error < 0) throw new SystemCallError(`netlink ${requestName(type)}`, -e.error);
            return true; // ack
          }
          if (m.type === nl.NLMSG_NOOP) continue;
          out.push(m);
          if (!dump && !wantAck && (m.flags & nl.NLM_F_MULTI) === 0) return true;
        }
      }
    };

    if (take()) return out;
    const timeoutMs = opts.timeoutMs ?? 2000;
    return new Promise<nl.NetlinkMessage[]>((resolve, reject) => {
      let poller: NativePoller | null = null;
      const finish = (err: unknown): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (poller) {
          poller.stop();
          poller.close();
          poller = null;
        }
        if (err === undefined) resolve(out);
        else reject(err);
      };
      const onAbort = (): void => finish(new AbortError());
      const timer = setTimeout(
        () => finish(new SystemCallError(`netlink ${requestName(type)}`, osConstants.errno.ETIMEDOUT, `no answer from the kernel in ${timeoutMs} ms`)),
        timeoutMs,
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      poller = new (native().Poller)(this.#fd, (status) => {
        try {
          if (status < 0) throw new SystemCallError('uv_poll', -status);
          if (take()) finish(undefined);
        } catch (err) {
          finish(err);
        }
      });
      const r = poller.start(c('UV_READABLE'));
      if (r < 0) finish(new SystemCallError('uv_poll_start', -r));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function requestName(type: number): string {
  return type === nl.RTM_GETROUTE ? 'RTM_GETROUTE' : type === nl.RTM_DELROUTE ? 'RTM_DELROUTE' : type === nl.RTM_NEWROUTE ? 'RTM_NEWROUTE' : `type ${type}`;
}
