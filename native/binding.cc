// pathmtu native binding: socket syscalls and event-loop readiness, nothing else.
//
// Every function returns a negative errno on failure instead of throwing; the TypeScript layer
// (src/sock/) turns those into Errors with code/errno/syscall. No protocol knowledge lives here:
// addresses arrive and leave as raw sockaddr bytes, control messages as (level, type, bytes).
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/icmp.h>
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

bool ArgInt(const Napi::CallbackInfo& info, size_t i, int* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be an integer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::Number>().Int32Value();
  return true;
}

// socket(domain, type, protocol) -> fd | -errno. Always non-blocking and close-on-exec.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int domain, type, protocol;
  if (!ArgInt(info, 0, &domain) || !ArgInt(info, 1, &type) || !ArgInt(info, 2, &protocol)) return info.Env().Undefined();
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  if (close(fd) < 0 && errno != EINTR) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, Napi::Buffer<uint8_t>* out) {
  if (info.Length() <= i || !info[i].IsBuffer()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a Buffer")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

// bind(fd, sockaddr) / connect(fd, sockaddr) -> 0 | -errno. sockaddr is raw bytes built in TS.
template <int (*Fn)(int, const struct sockaddr*, socklen_t)>
Napi::Value AddrCall(const Napi::CallbackInfo& info) {
  int fd;
  Napi::Buffer<uint8_t> addr;
  if (!ArgInt(info, 0, &fd) || !ArgBuffer(info, 1, &addr)) return info.Env().Undefined();
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
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name)) return info.Env().Undefined();
  int r;
  if (info.Length() > 3 && info[3].IsNumber()) {
    int v = info[3].As<Napi::Number>().Int32Value();
    r = setsockopt(fd, level, name, &v, sizeof v);
  } else if (info.Length() > 3 && info[3].IsBuffer()) {
    auto b = info[3].As<Napi::Buffer<uint8_t>>();
    r = setsockopt(fd, level, name, b.Data(), static_cast<socklen_t>(b.Length()));
  } else {
    Napi::TypeError::New(info.Env(), "value must be an integer or a Buffer").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (r < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

// getsockopt(fd, level, name, maxLength) -> Buffer | -errno
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  int fd, level, name, len;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &level) || !ArgInt(info, 2, &name) || !ArgInt(info, 3, &len))
    return info.Env().Undefined();
  if (len < 0 || len > 65536) {
    Napi::RangeError::New(info.Env(), "maxLength must be 0..65536").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::vector<uint8_t> buf(static_cast<size_t>(len) + 1);
  socklen_t sl = static_cast<socklen_t>(len);
  if (getsockopt(fd, level, name, buf.data(), &sl) < 0) return Errno(info.Env(), errno);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), buf.data(), sl);
}

// getsockname(fd) -> Buffer (raw sockaddr) | -errno
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  int fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &sl) < 0) return Errno(info.Env(), errno);
  return Napi::Buffer<uint8_t>::Copy(info.Env(), reinterpret_cast<uint8_t*>(&ss), sl);
}

// sendmsg(fd, data, sockaddr | null, control | null, flags) -> bytes sent | -errno
// control: array of [level, type, Buffer]; each becomes one cmsghdr (e.g. IP_TTL, IPV6_HOPLIMIT).
Napi::Value SendMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, flags = 0;
  Napi::Buffer<uint8_t> data;
  if (!ArgInt(info, 0, &fd) || !ArgBuffer(info, 1, &data)) return env.Undefined();
  if (info.Length() > 4 && !info[4].IsUndefined() && !ArgInt(info, 4, &flags)) return env.Undefined();

  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  struct iovec iov;
  iov.iov_base = data.Data();
  iov.iov_len = data.Length();
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;

  if (info.Length() > 2 && info[2].IsBuffer()) {
    auto a = info[2].As<Napi::Buffer<uint8_t>>();
    msg.msg_name = a.Data();
    msg.msg_namelen = static_cast<socklen_t>(a.Length());
  }

  std::vector<uint8_t> control;
  if (info.Length() > 3 && info[3].IsArray()) {
    auto arr = info[3].As<Napi::Array>();
    size_t total = 0;
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value item = arr[i];
      if (!item.IsArray()) {
        Napi::TypeError::New(env, "control entries must be [level, type, Buffer]").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      Napi::Value payload = item.As<Napi::Array>()[2u];
      if (!payload.IsBuffer()) {
        Napi::TypeError::New(env, "control entries must be [level, type, Buffer]").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      total += CMSG_SPACE(payload.As<Napi::Buffer<uint8_t>>().Length());
    }
    if (total > 0) {
      control.assign(total, 0);
      msg.msg_control = control.data();
      msg.msg_controllen = total;
      struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
      for (uint32_t i = 0; i < arr.Length() && c != nullptr; i++) {
        auto item = arr.Get(i).As<Napi::Array>();
        auto payload = item.Get(2u).As<Napi::Buffer<uint8_t>>();
        c->cmsg_level = item.Get(0u).As<Napi::Number>().Int32Value();
        c->cmsg_type = item.Get(1u).As<Napi::Number>().Int32Value();
        c->cmsg_len = CMSG_LEN(payload.Length());
        std::memcpy(CMSG_DATA(c), payload.Data(), payload.Length());
        c = CMSG_NXTHDR(&msg, c);
      }
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
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &maxData) || !ArgInt(info, 2, &maxControl) || !ArgInt(info, 3, &flags))
    return env.Undefined();
  if (maxData < 0 || maxData > 262144 || maxControl < 0 || maxControl > 65536) {
    Napi::RangeError::New(env, "maxData must be 0..262144 and maxControl 0..65536").ThrowAsJavaScriptException();
    return env.Undefined();
  }
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

// setns(fd, nstype) -> 0 | -errno. Moves the calling thread (the JS main thread) into the
// namespace behind fd; sockets opened afterwards live there. Used by the lab.
Napi::Value SetNs(const Napi::CallbackInfo& info) {
  int fd, nstype;
  if (!ArgInt(info, 0, &fd) || !ArgInt(info, 1, &nstype)) return info.Env().Undefined();
  if (setns(fd, nstype) < 0) return Errno(info.Env(), errno);
  return Napi::Number::New(info.Env(), 0);
}

// ifNameToIndex(name) -> interface index | -errno, in the caller's network namespace (an ioctl on
// a socket, so it follows setns(), unlike /sys/class/net). For IPv6 zones such as fe80::1%eth0.
Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "name must be a string").ThrowAsJavaScriptException();
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
    if (!ArgInt(info, 0, &fd)) return;
    if (info.Length() < 2 || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "callback must be a function").ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      Napi::Error::New(env, "no event loop").ThrowAsJavaScriptException();
      return;
    }
    handle_ = new uv_poll_t;
    int r = uv_poll_init_socket(loop, handle_, fd);
    if (r < 0) {
      delete handle_;
      handle_ = nullptr;
      initError_ = r;
      return;
    }
    handle_->data = this;
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    env_ = env;
  }

  ~Poller() override { CloseHandle(); }

 private:
  static void OnPoll(uv_poll_t* h, int status, int events) {
    Poller* self = static_cast<Poller*>(h->data);
    if (self == nullptr || self->callback_.IsEmpty()) return;
    Napi::HandleScope scope(self->env_);
    self->callback_.MakeCallback(self->Value(), {Napi::Number::New(self->env_, status), Napi::Number::New(self->env_, events)});
  }

  static void OnClose(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  void CloseHandle() {
    if (handle_ != nullptr) {
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnClose);
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
    if (!ArgInt(info, 0, &events)) return info.Env().Undefined();
    if (handle_ == nullptr) return Napi::Number::New(info.Env(), initError_ != 0 ? initError_ : UV_EBADF);
    int r = uv_poll_start(handle_, events, OnPoll);
    if (r == 0 && !active_) {
      active_ = true;
      Ref();  // keep the JS object alive while libuv may call back into it
    }
    return Napi::Number::New(info.Env(), r);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_poll_stop(handle_);
    if (active_) {
      active_ = false;
      Unref();
    }
    return Napi::Number::New(info.Env(), 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }

  Napi::Value Ref_(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value Unref_(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  uv_poll_t* handle_ = nullptr;
  int initError_ = 0;
  bool active_ = false;
  Napi::FunctionReference callback_;
  Napi::Env env_ = nullptr;
};

#define C(name) constants.Set(#name, Napi::Number::New(env, name))

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("bind", Napi::Function::New(env, AddrCall<DoBind>));
  exports.Set("connect", Napi::Function::New(env, AddrCall<DoConnect>));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("sendmsg", Napi::Function::New(env, SendMsg));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg));
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
  C(UV_READABLE); C(UV_WRITABLE); C(UV_PRIORITIZED); C(UV_EBADF);
  constants.Set("SIZEOF_SOCK_EXTENDED_ERR", Napi::Number::New(env, sizeof(struct sock_extended_err)));
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(pathmtu, Init)
