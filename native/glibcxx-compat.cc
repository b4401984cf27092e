// Keeps the binding loadable with the libstdc++ of older distributions that run Node 20 (GCC 8's
// GLIBCXX_3.4.25 on RHEL 8, GCC 10's 3.4.28 on Ubuntu 20.04). GCC 11+ headers make every
// std::vector allocation call std::__throw_bad_array_new_length(), new in GLIBCXX_3.4.29; defined
// here (hidden, so it never leaves this shared object) the binary no longer asks the system's
// libstdc++ for that version. The binding is built without exceptions: an impossible array length
// ends the process, as the uncaught exception from libstdc++'s own definition would.
// test/install/pack.test.ts checks the symbol versions the prebuilt binaries need.
#include <cstdlib>

namespace std {
[[noreturn]] __attribute__((visibility("hidden"))) void __throw_bad_array_new_length() {
  std::abort();
}
}  // namespace std
