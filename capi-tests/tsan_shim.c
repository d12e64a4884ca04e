/* Linked into the C tests of a ThreadSanitizer run (capi-tests/sanitize.sh --thread): the
 * library is instrumented by rustc's LLVM, whose code calls __tsan_memcpy, __tsan_memmove and
 * __tsan_memset, which the older runtime of this gcc (libtsan) does not define. Each forwards
 * to the C function, which that runtime intercepts and checks as the range access it is. */
#include <string.h>

void *__tsan_memcpy(void *dst, const void *src, size_t n);
void *__tsan_memmove(void *dst, const void *src, size_t n);
void *__tsan_memset(void *dst, int c, size_t n);

void *__tsan_memcpy(void *dst, const void *src, size_t n) { return memcpy(dst, src, n); }
void *__tsan_memmove(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
void *__tsan_memset(void *dst, int c, size_t n) { return memset(dst, c, n); }
