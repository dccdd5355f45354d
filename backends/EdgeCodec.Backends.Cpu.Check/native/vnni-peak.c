// Peak of AVX512-VNNI vpdpbusd (zmm and ymm, EVEX) on one core: the int8 MAC peak of CPUs such as Zen 4 / Ice Lake,
// which .NET 10 cannot issue (it has no Avx512Vnni API). A benchmark for docs/benchmarks.md, not part of the build:
//   gcc -O2 -mavx512f -mavx512vnni -mavx512vl -o /tmp/vnni-peak native/vnni-peak.c && /tmp/vnni-peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#define ACC12(T, Z, OP) T a0 = Z, a1 = Z, a2 = Z, a3 = Z, a4 = Z, a5 = Z, a6 = Z, a7 = Z, a8 = Z, a9 = Z, a10 = Z, a11 = Z; \
    for (long i = 0; i < n; i++) { a0 = OP(a0, x, w); a1 = OP(a1, x, w); a2 = OP(a2, x, w); a3 = OP(a3, x, w); \
        a4 = OP(a4, x, w); a5 = OP(a5, x, w); a6 = OP(a6, x, w); a7 = OP(a7, x, w); a8 = OP(a8, x, w); a9 = OP(a9, x, w); \
        a10 = OP(a10, x, w); a11 = OP(a11, x, w); __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5)); }

static int zmm(long n) {
    __m512i x = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-5);
    ACC12(__m512i, _mm512_setzero_si512(), _mm512_dpbusd_epi32)
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
        _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)),
        _mm512_add_epi32(_mm512_add_epi32(a8, a9), _mm512_add_epi32(a10, a11))));
    return _mm512_reduce_add_epi32(s);
}

static int ymm(long n) {
    __m256i x = _mm256_set1_epi8(3), w = _mm256_set1_epi8(-5);
    ACC12(__m256i, _mm256_setzero_si256(), _mm256_dpbusd_epi32)
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3)),
        _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a4, a5), _mm256_add_epi32(a6, a7)),
        _mm256_add_epi32(_mm256_add_epi32(a8, a9), _mm256_add_epi32(a10, a11))));
    return _mm256_extract_epi32(s, 0);
}

int main(void) {
    const long n = 50000000;
    for (int lanes = 64; lanes >= 32; lanes /= 2) { // MACs per vpdpbusd: 16 or 8 int32 lanes x 4 products
        double best = 1e9; volatile int sink = 0;
        for (int r = 0; r < 5; r++) {
            double t = now();
            sink += lanes == 64 ? zmm(n) : ymm(n);
            t = now() - t;
            if (t < best) best = t;
        }
        printf("vpdpbusd %s: %.2f G instr/s, %.1f GMAC/s per core (best of 5)\n", lanes == 64 ? "zmm" : "ymm",
               n * 12 / best / 1e9, n * 12.0 * lanes / best / 1e9); // lanes = MACs per instruction
    }
    return 0;
}
