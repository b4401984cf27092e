// pathmtu native binding: socket syscalls and event-loop readiness, nothing else.
//
// Every function returns a negative errno on failure instead of throwing; the TypeScript layer
// (src/sock/) turns those into Errors with code/errno/syscall. No protocol knowledge lives here:
// addresses arrive and leave as raw sockaddr bytes, control messages as (level, type, bytes).
// A worker being terminated cannot run JS: a Node-API call then fails, and without this
// node-addon-api turns the error it cannot throw into a fatal abort of the whole process.
#define NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <cstring>
#include <unordered_set>
#include <vector>

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <sched.h>

// From <net/if.h>, which clashes with the <linux/if.h> the packet headers bring in.
extern "C" unsigned int if_nametoindex(const char* ifname);

namespace {

Napi::Value Errno(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

// Argument checks. Every bad argument becomes a thrown TypeError naming it, never an abort and
// never a silent conversion: Int32Value() would turn 1.5 into 1, NaN into 0 and 2^32 + 3 into the
// fd 3 — a call on someone else's socket.
bool ThrowType(Napi::Env env, const std::string& message) {
  if (!env.IsExceptionPending()) Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return false;
}

std::string Describe(const Napi::Value& v) {
  if (v.IsEmpty() || v.IsUndefined()) return "nothing";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char b[64];
    std::snprintf(b, sizeof b, "%.17g", d);
    return b;
  }
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsBuffer()) return "a Buffer";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "a symbol";
}

// An integer in [lo, hi], as a JS number (no coercion: strings, BigInts, objects with valueOf are refused).
bool IntIn(Napi::Env env, const Napi::Value& v, const std::string& what, int64_t lo, int64_t hi, int* out) {
  if (v.IsEmpty()) return false;  // a getter threw: its exception is pending
  bool ok = v.IsNumber();
  double d = ok ? v.As<Napi::Number>().DoubleValue() : 0;
  ok = ok && std::isfinite(d) && d == std::trunc(d) && d >= static_cast<double>(lo) && d <= static_cast<double>(hi);
  if (!ok) {
    return ThrowType(env, what + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " + Describe(v));
  }
  *out = static_cast<int>(d);
  return true;
}

std::string ArgName(size_t i, const char* name) { return "argument " + std::to_string(i) + " (" + name + ")"; }

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int* out, int64_t lo = INT32_MIN, int64_t hi = INT32_MAX) {
  return IntIn(info.Env(), info[i], ArgName(i, name), lo, hi, out);
}

// A file descriptor: 0 .. INT32_MAX.
bool ArgFd(const Napi::CallbackInfo& info, size_t i, int* out) { return ArgInt(info, i, "fd", out, 0, INT32_MAX); }

// socket(domain, type, protocol) -> fd | -errno. Always non-blocking and close-on-exec.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int domain, type, protocol;
  if (!ArgInt(info, 0, "domain", &domain) || !ArgInt(info, 1, "type", &type) || !ArgInt(info, 2, "protocol", &protocol))
    return info.Env().Undefined();
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, &fd)) return info.Env().Undefined();
  if (close(fd) < 0 && errno != EINTR) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, Napi::Buffer<uint8_t>* out) {
  if (info.Length() <= i || !info[i].IsBuffer()) return ThrowType(info.Env(), "argument " + std::to_string(i) + " must be a Buffer, got " + Describe(info[i]));
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

// bind(fd, sockaddr) / connect(fd, sockaddr) -> 0 | -errno. sockaddr is raw bytes built in TS.
template <int (*Fn)(int, const struct sockaddr*, socklen_t)>
Napi::Value AddrCall(const Napi::CallbackInfo& info) {
  int fd;
  Napi::Buffer<uint8_t> addr;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, &addr)) return info.Env().Undefined();
  int r;
  do {
    r = Fn(fd, reinterpret_cast<const struct sockaddr*>(addr.Data()), static_cast<socklen_t>(addr.Length()));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

int DoBind(int fd, const struct sockaddr* a, socklen_t l) { return bind(fd, a, l); }
int DoConnect(int fd, const struct sockaddr* a, socklen_t l) { return connect(fd, a, l); }

// setsockopt(fd, level, name, value: number | Buffer) -> 0 | -errno
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  int fd, level, name;
  if (!ArgFd(info, 0, &fd) || !ArgInt(info, 1, "level", &level) || !ArgInt(info, 2, "name", &name)) return info.Env().Undefined();
  int r;
  if (info[3].IsNumber()) {
    int v;
    if (!ArgInt(info, 3, "value", &v)) return info.Env().Undefined();
    r = setsockopt(fd, level, name, &v, sizeof v);
  } else if (info[3].IsBuffer()) {
    auto b = info[3].As<Napi::Buffer<uint8_t>>();
    r = setsockopt(fd, level, name, b.Data(), static_cast<socklen_t>(b.Length()));
  } else {
    ThrowType(info.Env(), "argument 3 (value) must be an integer or a Buffer, got " + Describe(info[3]));
    return info.Env().Undefined();
  }
  if (r < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

// getsockopt(fd, level, name, maxLength) -> Buffer | -errno
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int fd, level, name, len;
  if (!ArgFd(info, 0, &fd) || !ArgInt(info, 1, "level", &level) || !ArgInt(info, 2, "name", &name) ||
      !ArgInt(info, 3, "maxLength", &len, 0, 65536))
    return info.Env().Undefined();
  std::vector<uint8_t> buf(static_cast<size_t>(len) + 1);
  socklen_t sl = static_cast<socklen_t>(len);
  if (getsockopt(fd, level, name, buf.data(), &sl) < 0) return Errno(info.Env(), errno);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), sl);
}

// getsockname(fd) -> Buffer (raw sockaddr) | -errno
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, &fd)) return info.Env().Undefined();
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &sl) < 0) return Errno(info.Env(), errno);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<uint8_t*>(&ss), sl);
}

// sendmsg(fd, data, sockaddr | null, control | null, flags) -> bytes sent | -errno
// control: array of [level, type, Buffer]; each becomes one cmsghdr (e.g. IP_TTL, IPV6_HOPLIMIT).
// Every entry is read and checked once, before anything is built: a getter runs at most once, and
// a value that changes between reads cannot reach a cast.
struct ControlEntry {
  int level;
  int type;
  Napi::Buffer<uint8_t> data;
};

bool ReadControl(Napi::Env env, const Napi::Value& v, std::vector<ControlEntry>* out) {
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsArray()) return ThrowType(env, "argument 3 (control) must be an array of [level, type, Buffer] or null, got " + Describe(v));
  auto arr = v.As<Napi::Array>();
  uint32_t count = arr.Length();
  if (count > 64) return ThrowType(env, "argument 3 (control) has " + std::to_string(count) + " entries, at most 64");
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value item = arr.Get(i);
    if (env.IsExceptionPending()) return false;
    std::string what = "control entry " + std::to_string(i);
    if (!item.IsArray()) return ThrowType(env, what + " must be [level, type, Buffer], got " + Describe(item));
    auto e = item.As<Napi::Array>();
    Napi::Value level = e.Get(0u);
    if (env.IsExceptionPending()) return false;
    Napi::Value type = e.Get(1u);
    if (env.IsExceptionPending()) return false;
    Napi::Value data = e.Get(2u);
    if (env.IsExceptionPending()) return false;
    ControlEntry c;
    if (!IntIn(env, level, what + " level", INT32_MIN, INT32_MAX, &c.level)) return false;
    if (!IntIn(env, type, what + " type", INT32_MIN, INT32_MAX, &c.type)) return false;
    if (!data.IsBuffer()) return ThrowType(env, what + " data must be a Buffer, got " + Describe(data));
    c.data = data.As<Napi::Buffer<uint8_t>>();
    if (c.data.Length() > 4096) return ThrowType(env, what + " data is " + std::to_string(c.data.Length()) + " bytes, at most 4096");
    out->push_back(c);
  }
  return true;
}

Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, flags = 0;
  Napi::Buffer<uint8_t> data;
  if (!ArgFd(info, 0, &fd) || !ArgBuffer(info, 1, &data)) return env.Undefined();
  if (!info[2].IsUndefined() && !info[2].IsNull() && !info[2].IsBuffer()) {
    ThrowType(env, "argument 2 (sockaddr) must be a Buffer or null, got " + Describe(info[2]));
    return env.Undefined();
  }
  std::vector<ControlEntry> entries;
  if (!ReadControl(env, info[3], &entries)) return env.Undefined();
  if (!info[4].IsUndefined() && !ArgInt(info, 4, "flags", &flags)) return env.Undefined();

  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  struct iovec iov;
  iov.iov_base = data.Data();
  iov.iov_len = data.Length();
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;

  if (info[2].IsBuffer()) {
    auto a = info[2].As<Napi::Buffer<uint8_t>>();
    msg.msg_name = a.Data();
    msg.msg_namelen = static_cast<socklen_t>(a.Length());
  }

  std::vector<uint8_t> control;
  size_t total = 0;
  for (const auto& e : entries) total += CMSG_SPACE(e.data.Length());
  if (total > 0) {
    control.assign(total, 0);
    msg.msg_control = control.data();
    msg.msg_controllen = total;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    for (size_t i = 0; i < entries.size() && c != nullptr; i++) {
      c->cmsg_level = entries[i].level;
      c->cmsg_type = entries[i].type;
      c->cmsg_len = CMSG_LEN(entries[i].data.Length());
      std::memcpy(CMSG_DATA(c), entries[i].data.Data(), entries[i].data.Length());
      c = CMSG_NXTHDR(&msg, c);
    }
  }

  ssize_t n;
  do {
    n = sendmsg(fd, &msg, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(env, errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmsg(fd, maxData, maxControl, flags)
//   -> -errno | { data: Buffer, name: Buffer, control: [{level, type, data}], flags, length }
// length is the datagram's real length (MSG_TRUNC reports it even when larger than maxData).
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, maxData, maxControl, flags;
  if (!ArgFd(info, 0, &fd) || !ArgInt(info, 1, "maxData", &maxData, 0, 262144) ||
      !ArgInt(info, 2, "maxControl", &maxControl, 0, 65536) || !ArgInt(info, 3, "flags", &flags))
    return env.Undefined();
  std::vector<uint8_t> data(static_cast<size_t>(maxData) + 1);
  // cmsghdr needs size_t alignment: allocate in size_t units.
  std::vector<size_t> control((static_cast<size_t>(maxControl) + sizeof(size_t) - 1) / sizeof(size_t) + 1);
  struct sockaddr_storage name;
  std::memset(&name, 0, sizeof name);

  struct iovec iov;
  iov.iov_base = data.data();
  iov.iov_len = static_cast<size_t>(maxData);
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = &name;
  msg.msg_namelen = sizeof name;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = maxControl > 0 ? control.data() : nullptr;
  msg.msg_controllen = maxControl > 0 ? static_cast<size_t>(maxControl) : 0;

  ssize_t n;
  do {
    n = recvmsg(fd, &msg, flags | MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(env, errno);

  size_t copied = static_cast<size_t>(n) < static_cast<size_t>(maxData) ? static_cast<size_t>(n) : static_cast<size_t>(maxData);
  Napi::Object out = Napi::Object::New(env);
  out.Set("data", Napi::Buffer<uint8_t>::Copy(env, data.data(), copied));
  out.Set("length", Napi::Number::New(env, static_cast<double>(n)));
  out.Set("name", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&name), msg.msg_namelen));
  out.Set("flags", Napi::Number::New(env, msg.msg_flags));
  Napi::Array cmsgs = Napi::Array::New(env);
  uint32_t i = 0;
  if (msg.msg_controllen > 0) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_len < CMSG_LEN(0)) break;
      Napi::Object e = Napi::Object::New(env);
      e.Set("level", Napi::Number::New(env, c->cmsg_level));
      e.Set("type", Napi::Number::New(env, c->cmsg_type));
      e.Set("data", Napi::Buffer<uint8_t>::Copy(env, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0)));
      cmsgs.Set(i++, e);
    }
  }
  out.Set("control", cmsgs);
  return out;
}

// attachFilter(fd, program) -> 0 | -errno: SO_ATTACH_FILTER with a classic BPF program.
// program: a Buffer of struct sock_filter in host byte order (8 bytes each: u16 code, u8 jt,
// u8 jf, u32 k), 1 .. BPF_MAXINSNS of them. The struct sock_fprog is built here, so TypeScript never
// handles a pointer. The kernel checks the program itself (EINVAL for a bad one); replacing a
// filter swaps it atomically (packets never pass unfiltered in between).
Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  Napi::Buffer<uint8_t> prog;
  if (!ArgFd(info, 0, &fd)) return env.Undefined();
  if (info.Length() <= 1 || !info[1].IsBuffer()) {
    ThrowType(env, "argument 1 (program) must be a Buffer of struct sock_filter, got " + Describe(info[1]));
    return env.Undefined();
  }
  prog = info[1].As<Napi::Buffer<uint8_t>>();
  size_t len = prog.Length();
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    ThrowType(env, "argument 1 (program) must hold 1 to " + std::to_string(BPF_MAXINSNS) + " instructions of " +
                       std::to_string(sizeof(struct sock_filter)) + " bytes, got " + std::to_string(len) + " bytes");
    return env.Undefined();
  }
  // Copied into an aligned array: the Buffer may sit at any offset of its ArrayBuffer.
  std::vector<struct sock_filter> insns(len / sizeof(struct sock_filter));
  std::memcpy(insns.data(), prog.Data(), len);
  struct sock_fprog fprog;
  fprog.len = static_cast<unsigned short>(insns.size());
  fprog.filter = insns.data();
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) return Errno(env, errno);
  return Napi::Number::New(env, 0);
}

// detachFilter(fd) -> 0 | -errno (ENOENT when no filter is attached).
Napi::Value DetachFilter(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgFd(info, 0, &fd)) return info.Env().Undefined();
  int dummy = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

// setns(fd, nstype) -> 0 | -errno. Moves the calling thread (the JS main thread) into the
// namespace behind fd; sockets opened afterwards live there. Used by the lab.
Napi::Value SetNs(const Napi::CallbackInfo& info) {
  int fd, nstype;
  if (!ArgFd(info, 0, &fd) || !ArgInt(info, 1, "nstype", &nstype)) return info.Env().Undefined();
  if (setns(fd, nstype) < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

// ifNameToIndex(name) -> interface index | -errno, in the caller's network namespace (an ioctl on
// a socket, so it follows setns(), unlike /sys/class/net). For IPv6 zones such as fe80::1%eth0.
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    ThrowType(info.Env(), "argument 0 (name) must be a string, got " + Describe(info[0]));
    return info.Env().Undefined();
  }
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.empty() || name.size() >= IFNAMSIZ) return Errno(info.Env(), ENODEV);
  unsigned int index = if_nametoindex(name.c_str());
  if (index == 0) return Errno(info.Env(), errno != 0 ? errno : ENODEV);
  return Napi::Number::New(info.Env(), index);
}

// Poller: one uv_poll_t per fd, on the loop of the environment that created it (worker-safe).
// The callback receives (status, events). libuv stops the handle and reports UV_EBADF when the
// kernel signals POLLERR, which is exactly how a socket announces a pending error-queue entry;
// the TS layer drains MSG_ERRQUEUE and calls start() again.
//
// Teardown: a worker thread terminated with sockets open tears its environment down while our
// handles are still open on its loop. Their close callbacks must run before Node unloads the addon
// (a segfault in uv__finish_close otherwise), so each environment keeps a registry of its open
// handles and an async cleanup hook closes them and holds the teardown until libuv has called back.
class Poller;

struct EnvData;

struct PollHandle {
  uv_poll_t poll;
  Poller* owner;  // null once closed: a late callback finds no one to call
  EnvData* data;
};

struct EnvData {
  std::unordered_set<PollHandle*> open;  // not yet given to uv_close
  size_t closing = 0;                    // given to uv_close, callback not yet run
  napi_async_cleanup_hook_handle hook = nullptr;
  bool tearingDown = false;
};

void MaybeFinishTeardown(EnvData* d) {
  if (!d->tearingDown || d->closing != 0) return;
  napi_async_cleanup_hook_handle hook = d->hook;
  delete d;
  napi_remove_async_cleanup_hook(hook);
}

void OnHandleClosed(uv_handle_t* h) {
  auto* ph = reinterpret_cast<PollHandle*>(h);
  EnvData* d = ph->data;
  delete ph;
  d->closing--;
  MaybeFinishTeardown(d);
}

void CloseHandle(PollHandle* ph) {
  ph->data->open.erase(ph);
  ph->owner = nullptr;
  ph->data->closing++;
  uv_close(reinterpret_cast<uv_handle_t*>(&ph->poll), OnHandleClosed);
}

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Poller",
                       {InstanceMethod("start", &Poller::Start), InstanceMethod("stop", &Poller::Stop),
                        InstanceMethod("close", &Poller::Close), InstanceMethod("ref", &Poller::Ref_),
                        InstanceMethod("unref", &Poller::Unref_)});
  }

  explicit Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
    Napi::Env env = info.Env();
    int fd;
    if (!ArgFd(info, 0, &fd)) return;
    if (!info[1].IsFunction()) {
      ThrowType(env, "argument 1 (callback) must be a function, got " + Describe(info[1]));
      return;
    }
    EnvData* data = nullptr;
    uv_loop_t* loop = nullptr;
    if (napi_get_instance_data(env, reinterpret_cast<void**>(&data)) != napi_ok || data == nullptr || data->tearingDown ||
        napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "no event loop").ThrowAsJavaScriptException();
      return;
    }
    auto* ph = new PollHandle{};
    int r = uv_poll_init_socket(loop, &ph->poll, fd);
    if (r < 0) {
      delete ph;
      initError_ = r;
      return;
    }
    ph->owner = this;
    ph->data = data;
    ph->poll.data = ph;
    data->open.insert(ph);
    handle_ = ph;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    env_ = env;
  }

  ~Poller() override { Release(); }

  // The environment is going away: close the handle without touching JS (no Unref: the object's
  // reference dies with the environment).
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
    auto* d = static_cast<EnvData*>(arg);
    d->hook = hook;
    d->tearingDown = true;
    std::vector<PollHandle*> open(d->open.begin(), d->open.end());
    for (PollHandle* ph : open) {
      if (ph->owner != nullptr) {
        ph->owner->handle_ = nullptr;
        ph->owner->active_ = false;
      }
      CloseHandle(ph);
    }
    MaybeFinishTeardown(d);
  }

 private:
  // Plain Node-API here, every status checked: while a worker is being terminated JS cannot run,
  // and node-addon-api's wrappers would turn that failed call into a fatal error (an abort). A
  // callback that throws becomes an uncaught exception of the process, as in any other callback.
  static void OnPoll(uv_poll_t* h, int status, int events) {
    auto* ph = static_cast<PollHandle*>(h->data);
    Poller* self = ph == nullptr ? nullptr : ph->owner;
    if (self == nullptr || self->callback_.IsEmpty()) return;
    napi_env env = self->env_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value recv = nullptr;
    napi_value fn = nullptr;
    napi_value argv[2];
    napi_value result;
    if (napi_get_reference_value(env, static_cast<napi_ref>(*self), &recv) == napi_ok && recv != nullptr &&
        napi_get_reference_value(env, static_cast<napi_ref>(self->callback_), &fn) == napi_ok && fn != nullptr &&
        napi_create_int32(env, status, &argv[0]) == napi_ok &&
        napi_create_int32(env, events, &argv[1]) == napi_ok &&
        napi_make_callback(env, nullptr, recv, fn, 2, argv, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
  }

  void Release() {
    if (handle_ != nullptr) {
      CloseHandle(handle_);
      handle_ = nullptr;
    }
    if (active_) {
      active_ = false;
      Unref();
    }
  }

  // start(events) -> 0 | -errno (libuv error codes are negative errno on Unix)
  Napi::Value Start(const Napi::CallbackInfo& info) {
    int events;
    if (!ArgInt(info, 0, "events", &events, 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED)) return info.Env().Undefined();
    if (handle_ == nullptr) return Napi::Number::New(info.Env(), initError_ != 0 ? initError_ : UV_EBADF);
    int r = uv_poll_start(&handle_->poll, events, OnPoll);
    if (r == 0 && !active_) {
      active_ = true;
      Ref();  // keep the JS object alive while libuv may call back into it
    }
    return Napi::Number::New(info.Env(), r);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_poll_stop(&handle_->poll);
    if (active_) {
      active_ = false;
      Unref();
    }
    return Napi::Number::New(info.Env(), 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value Ref_(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.Env().Undefined();
  }

  Napi::Value Unref_(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.Env().Undefined();
  }

  PollHandle* handle_ = nullptr;
  int initError_ = 0;
  bool active_ = false;
  Napi::FunctionReference callback_;
  Napi::Env env_ = nullptr;
};

#define C(name) constants.Set(#name, Napi::Number::New(env, name))

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // One registry of poll handles per environment (main thread, each worker), freed by its
  // teardown hook once every handle has closed — never by the instance-data finalizer, which may
  // run before libuv has called back.
  auto* data = new EnvData();
  if (napi_set_instance_data(env, data, nullptr, nullptr) != napi_ok ||
      napi_add_async_cleanup_hook(env, Poller::OnTeardown, data, nullptr) != napi_ok) {
    delete data;
    Napi::Error::New(env, "cannot register the binding's cleanup hook").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("bind", Napi::Function::New(env, AddrCall<DoBind>));
  exports.Set("connect", Napi::Function::New(env, AddrCall<DoConnect>));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("sendmsg", Napi::Function::New(env, SendMsg));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg));
  exports.Set("attachFilter", Napi::Function::New(env, AttachFilter));
  exports.Set("detachFilter", Napi::Function::New(env, DetachFilter));
  exports.Set("setns", Napi::Function::New(env, SetNs));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("Poller", Poller::Define(env));

  // The system's own numbers, so TypeScript never guesses an ABI value.
  Napi::Object constants = Napi::Object::New(env);
  C(AF_INET); C(AF_INET6); C(AF_NETLINK); C(AF_PACKET); C(AF_UNSPEC);
  C(SOCK_RAW); C(SOCK_DGRAM); C(SOCK_STREAM);
  C(IPPROTO_IP); C(IPPROTO_IPV6); C(IPPROTO_ICMP); C(IPPROTO_ICMPV6); C(IPPROTO_UDP); C(IPPROTO_TCP); C(IPPROTO_RAW);
  C(SOL_SOCKET); C(SO_ERROR); C(SO_RCVBUF); C(SO_SNDBUF); C(SO_TIMESTAMPNS); C(SO_BINDTODEVICE); C(SO_REUSEADDR);
  C(SO_MARK);
  C(IP_TTL); C(IP_HDRINCL); C(IP_MTU_DISCOVER); C(IP_RECVERR); C(IP_RECVTTL); C(IP_MTU); C(IP_PKTINFO); C(IP_TOS);
  C(IP_PMTUDISC_DONT); C(IP_PMTUDISC_WANT); C(IP_PMTUDISC_DO); C(IP_PMTUDISC_PROBE);
  C(IP_PMTUDISC_INTERFACE); C(IP_PMTUDISC_OMIT);
  C(IPV6_UNICAST_HOPS); C(IPV6_HOPLIMIT); C(IPV6_RECVHOPLIMIT); C(IPV6_MTU_DISCOVER); C(IPV6_MTU);
  C(IPV6_RECVERR); C(IPV6_DONTFRAG); C(IPV6_V6ONLY); C(IPV6_CHECKSUM); C(IPV6_RECVPKTINFO);
  C(IPV6_PMTUDISC_DONT); C(IPV6_PMTUDISC_WANT); C(IPV6_PMTUDISC_DO); C(IPV6_PMTUDISC_PROBE);
  C(MSG_ERRQUEUE); C(MSG_TRUNC); C(MSG_CTRUNC); C(MSG_PEEK); C(MSG_DONTWAIT);
  C(SO_EE_ORIGIN_NONE); C(SO_EE_ORIGIN_LOCAL); C(SO_EE_ORIGIN_ICMP); C(SO_EE_ORIGIN_ICMP6);
  C(SOL_RAW); C(ICMP_FILTER); C(ICMP6_FILTER);
  C(SOL_PACKET); C(PACKET_VNET_HDR); C(PACKET_STATISTICS); C(SO_RCVBUFFORCE);
  C(NETLINK_ROUTE); C(CLONE_NEWNET); C(ETH_P_ALL); C(ETH_P_IP); C(ETH_P_IPV6);
  // sockaddr_ll: packet types (sll_pkttype) and link types (sll_hatype) a capture meets.
  C(PACKET_HOST); C(PACKET_BROADCAST); C(PACKET_MULTICAST); C(PACKET_OTHERHOST); C(PACKET_OUTGOING);
  C(ARPHRD_ETHER); C(ARPHRD_LOOPBACK); C(ARPHRD_NONE);
  C(UV_READABLE); C(UV_WRITABLE); C(UV_PRIORITIZED); C(UV_EBADF);
  // errno values an ICMP error can leave pending that Node's os.constants.errno lacks.
  C(EHOSTDOWN); C(ENONET);
  // Classic BPF (linux/filter.h, linux/bpf_common.h): instruction classes, sizes, modes, ops,
  // sources, the ancillary and negative-offset areas, and the socket options that attach a program.
  C(SO_ATTACH_FILTER); C(SO_DETACH_FILTER); C(SO_LOCK_FILTER); C(BPF_MAXINSNS); C(BPF_MEMWORDS);
  C(BPF_LD); C(BPF_LDX); C(BPF_ST); C(BPF_STX); C(BPF_ALU); C(BPF_JMP); C(BPF_RET); C(BPF_MISC);
  C(BPF_W); C(BPF_H); C(BPF_B); C(BPF_IMM); C(BPF_ABS); C(BPF_IND); C(BPF_MEM); C(BPF_LEN); C(BPF_MSH);
  C(BPF_ADD); C(BPF_SUB); C(BPF_MUL); C(BPF_DIV); C(BPF_OR); C(BPF_AND); C(BPF_LSH); C(BPF_RSH);
  C(BPF_NEG); C(BPF_MOD); C(BPF_XOR);
  C(BPF_JA); C(BPF_JEQ); C(BPF_JGT); C(BPF_JGE); C(BPF_JSET); C(BPF_K); C(BPF_X); C(BPF_A);
  C(BPF_TAX); C(BPF_TXA);
  C(SKF_AD_OFF); C(SKF_AD_PROTOCOL); C(SKF_AD_PKTTYPE); C(SKF_NET_OFF); C(SKF_LL_OFF);
  constants.Set("SIZEOF_SOCK_FILTER", Napi::Number::New(env, sizeof(struct sock_filter)));
  constants.Set("SIZEOF_SOCK_EXTENDED_ERR", Napi::Number::New(env, sizeof(struct sock_extended_err)));
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(pathmtu, Init)
