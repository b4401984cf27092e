// Runs ONE hostile call into the native binding (its index is argv[2]) and prints what happened as
// JSON: {case, threw: error name | null, message, value}. Run in a child so that an abort (a failed
// CHECK inside node-addon-api, SIGABRT) or a crash is seen by the parent as a failure, not a lost run.
// Loads the compiled package (npm test builds it first): the child is plain Node.
import { native, c } from '../../dist/sock/binding.js';

const b = native();
const fd = b.socket(c('AF_INET'), c('SOCK_DGRAM'), c('IPPROTO_UDP'));
if (fd < 0) throw new Error(`socket: ${fd}`);
const WRAP = 2 ** 32; // an fd + 2^32 must not become the fd
const buf = Buffer.alloc(4);
const sa = Buffer.alloc(16);
sa.writeUInt16LE(c('AF_INET'), 0);
const throwingArray = () => {
  const a = [];
  Object.defineProperty(a, 0, { get() { throw new Error('getter threw'); } });
  return a;
};
const cb = () => {};

/** [name, call]. Every call here passes something the binding must refuse with a thrown error. */
export const cases = [
  ['socket("x", ...)', () => b.socket('x', c('SOCK_DGRAM'), 0)],
  ['socket(2^32+AF_INET, ...)', () => b.socket(WRAP + c('AF_INET'), c('SOCK_DGRAM'), 0)],
  ['socket(AF_INET, 1.5, 0)', () => b.socket(c('AF_INET'), 1.5, 0)],
  ['socket(NaN, ...)', () => b.socket(NaN, c('SOCK_DGRAM'), 0)],
  ['socket(Infinity, ...)', () => b.socket(Infinity, c('SOCK_DGRAM'), 0)],
  ['socket(2n, ...)', () => b.socket(2n, c('SOCK_DGRAM'), 0)],
  ['socket()', () => b.socket()],
  ['close(fd + 2^32)', () => b.close(fd + WRAP)],
  ['close("3")', () => b.close(String(fd))],
  ['close(-1.5)', () => b.close(-1.5)],
  ['close({valueOf})', () => b.close({ valueOf: () => fd })],
  ['bind(fd, "addr")', () => b.bind(fd, '127.0.0.1')],
  ['bind(fd + 2^32, sockaddr)', () => b.bind(fd + WRAP, sa)],
  ['connect(fd, 1)', () => b.connect(fd, 1)],
  ['setsockopt(fd, "x", 1, 1)', () => b.setsockopt(fd, 'x', 1, 1)],
  ['setsockopt(fd, level, name, 1.5)', () => b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), 1.5)],
  ['setsockopt(fd, level, name, 2^32+1)', () => b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), WRAP + 1)],
  ['setsockopt(fd, level, name, "1")', () => b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), '1')],
  ['setsockopt(fd, level, name)', () => b.setsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'))],
  ['getsockopt(fd, level, name, "4")', () => b.getsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), '4')],
  ['getsockopt(fd, level, name, 2^32+4)', () => b.getsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), WRAP + 4)],
  ['getsockopt(fd, level, name, -1)', () => b.getsockopt(fd, c('SOL_SOCKET'), c('SO_RCVBUF'), -1)],
  ['getsockname("x")', () => b.getsockname('x')],
  ['getsockname(fd + 2^32)', () => b.getsockname(fd + WRAP)],
  ['sendmsg(fd, "data")', () => b.sendmsg(fd, 'data', sa, null)],
  ['sendmsg(fd, buf, "addr")', () => b.sendmsg(fd, buf, '127.0.0.1', null)],
  ['sendmsg(fd, buf, sa, "control")', () => b.sendmsg(fd, buf, sa, 'control')],
  ['sendmsg control level "x"', () => b.sendmsg(fd, buf, sa, [['x', c('IP_TTL'), buf]])],
  ['sendmsg control type {}', () => b.sendmsg(fd, buf, sa, [[c('IPPROTO_IP'), {}, buf]])],
  ['sendmsg control level 2^40', () => b.sendmsg(fd, buf, sa, [[2 ** 40, c('IP_TTL'), buf]])],
  ['sendmsg control entry 1', () => b.sendmsg(fd, buf, sa, [1])],
  ['sendmsg control entry [level, type]', () => b.sendmsg(fd, buf, sa, [[c('IPPROTO_IP'), c('IP_TTL')]])],
  ['sendmsg control entry with a throwing getter', () => b.sendmsg(fd, buf, sa, [throwingArray()])],
  ['sendmsg control array with a throwing getter', () => b.sendmsg(fd, buf, sa, Object.assign(throwingArray(), { length: 1 }))],
  ['sendmsg(fd, buf, sa, null, "flags")', () => b.sendmsg(fd, buf, sa, null, 'flags')],
  ['sendmsg(fd, buf, sa, null, 2^32)', () => b.sendmsg(fd, buf, sa, null, WRAP)],
  ['recvmsg(fd, "x", 0, 0)', () => b.recvmsg(fd, 'x', 0, 0)],
  ['recvmsg(fd, 2^32+10, 0, 0)', () => b.recvmsg(fd, WRAP + 10, 0, 0)],
  ['recvmsg(fd, 100, 2^32, 0)', () => b.recvmsg(fd, 100, WRAP, 0)],
  ['recvmsg(fd, 100, 0, 1.5)', () => b.recvmsg(fd, 100, 0, 1.5)],
  ['setns("x", 0)', () => b.setns('x', 0)],
  ['setns(fd + 2^32, CLONE_NEWNET)', () => b.setns(fd + WRAP, c('CLONE_NEWNET'))],
  ['ifNameToIndex(42)', () => b.ifNameToIndex(42)],
  ['ifNameToIndex()', () => b.ifNameToIndex()],
  ['new Poller("x", cb)', () => new b.Poller('x', cb)],
  ['new Poller(fd, "cb")', () => new b.Poller(fd, 'cb')],
  ['new Poller(fd + 2^32, cb)', () => new b.Poller(fd + WRAP, cb)],
  ['Poller(fd, cb) without new', () => b.Poller(fd, cb)],
  ['poller.start("x")', () => new b.Poller(fd, cb).start('x')],
  ['poller.start(2^32 + UV_READABLE)', () => new b.Poller(fd, cb).start(WRAP + c('UV_READABLE'))],
];

const i = Number(process.argv[2]);
if (Number.isInteger(i)) {
  const [name, call] = cases[i];
  let out;
  try {
    const value = call();
    out = { case: name, threw: null, value: typeof value === 'object' && value !== null ? Object.prototype.toString.call(value) : String(value) };
  } catch (err) {
    out = { case: name, threw: err?.name ?? typeof err, message: String(err?.message ?? err) };
  }
  // The socket must still be ours: no hostile call may have closed (or used) a wrapped fd.
  const still = b.getsockname(fd);
  out.fdAlive = Buffer.isBuffer(still);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0); // a poller a hostile call left running must not keep the child alive
} else {
  process.stdout.write(`${cases.length}\n`);
}
