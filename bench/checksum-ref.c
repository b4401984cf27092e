/* C reference for the Internet checksum benchmark (bench/codec.ts compiles this with gcc -O2).
 * The classic portable fast form (as in Linux's generic csum_partial): 32-bit loads summed into a
 * 64-bit accumulator with carries deferred, folded once at the end, byte order fixed once.
 * Usage: checksum-ref SIZE... ; prints "size run gbps" lines, RUNS runs per size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5
#define RUN_NS 150000000.0 /* ~150 ms per run */

static uint16_t csum(const uint8_t *p, size_t n) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t w;
    memcpy(&w, p + i, 4); /* unaligned-safe; compiles to a plain load */
    s += w;
  }
  /* Tail bytes in memory order: on a little-endian host the even byte is the low half. */
  for (; i < n; i++) s += (i & 1) ? (uint64_t)p[i] << 8 : p[i];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t le = (uint16_t)s;
  uint16_t be = (uint16_t)((le << 8) | (le >> 8));
  return (uint16_t)~be;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  volatile uint16_t sink = 0;
  for (int a = 1; a < argc; a++) {
    size_t n = (size_t)atol(argv[a]);
    uint8_t *buf = malloc(n + 1);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 131 + 7);
    for (int r = 0; r < RUNS; r++) {
      long iters = 0;
      double t0 = now_ns(), t;
      do {
        for (int k = 0; k < 1024; k++) {
          buf[0] = (uint8_t)iters; /* the data changes, so no call can be hoisted */
          __asm__ volatile("" : : "r"(buf) : "memory");
          sink ^= csum(buf, n);
          iters++;
        }
        t = now_ns();
      } while (t - t0 < RUN_NS);
      printf("%zu %d %.3f\n", n, r, (double)n * iters / (t - t0));
    }
    free(buf);
  }
  return sink == 0x12345 ? 1 : 0;
}
