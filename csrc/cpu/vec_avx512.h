// A thin float32 vector type for AVX-512 units (16 lanes). Included only by *_avx512.cpp files:
// everything sits in fastnn::avx512's anonymous namespace (see [note: ISA units]).
// vec_avx2.h offers the same names for 8 lanes, so vec_math.h and the kernel bodies are shared.
#pragma once
#include <immintrin.h>
#include <stdint.h>

#include "cpu/log_table.h"

#define FASTNN_VEC_NS avx512

namespace fastnn {
namespace avx512 {
namespace {

constexpr int64_t W = 16;
struct V {
  __m512 v;
};
typedef __mmask16 M;

// GCC 12 implements the unmasked forms of max/min/roundscale/cvtps/shift/extract as the masked
// builtin with an _mm512_undefined_*() pass-through, which -Wuninitialized reports (a false
// positive inside <immintrin.h>). The zero-masking forms with every lane selected compile to the
// same instruction and pass zeros instead, so the SIMD code below uses them.
constexpr __mmask16 kAllLanes = 0xFFFF;

inline V vset(float a) { return {_mm512_set1_ps(a)}; }
inline V vload(const float* p) { return {_mm512_loadu_ps(p)}; }
inline void vstore(float* p, V a) { _mm512_storeu_ps(p, a.v); }
inline __mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
// The first n < W lanes from p, the others `fill`; never touches memory past p + n.
inline V vload_part(const float* p, int64_t n, float fill) {
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), tail_mask(n), p)};
}
inline void vstore_part(float* p, V a, int64_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), a.v); }
// a's first n <= W lanes, +0 in the others.
inline V vfirst(V a, int64_t n) { return {_mm512_maskz_mov_ps(tail_mask(n), a.v)}; }

inline V operator+(V a, V b) { return {_mm512_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm512_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm512_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm512_div_ps(a.v, b.v)}; }
inline V fmadd(V a, V b, V c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }    // a*b + c
inline V fnmadd(V a, V b, V c) { return {_mm512_fnmadd_ps(a.v, b.v, c.v)}; }  // c - a*b
inline V fmsub(V a, V b, V c) { return {_mm512_fmsub_ps(a.v, b.v, c.v)}; }    // a*b - c
// max/min return the second operand when either is NaN (x86 semantics): callers order them.
inline V vmax(V a, V b) { return {_mm512_maskz_max_ps(kAllLanes, a.v, b.v)}; }
inline V vmin(V a, V b) { return {_mm512_maskz_min_ps(kAllLanes, a.v, b.v)}; }
inline V vabs(V a) { return {_mm512_abs_ps(a.v)}; }
inline V vsqrt(V a) { return {_mm512_maskz_sqrt_ps(kAllLanes, a.v)}; }
// 1/a within 2^-14 relative (a correction term's divisor, never a result's)
inline V vrcp(V a) { return {_mm512_maskz_rcp14_ps(kAllLanes, a.v)}; }
// sqrt(a), correctly rounded as vsqrt, for a stream of vectors: a 512-bit vsqrtps holds the
// divider for 12 cycles, while this is eight fused multiply-adds on two ports. From r ~ 1/sqrt a
// (within 2^-14): y = a r and h = r / 2, one coupled Newton step on both (e = 1/2 - y h), then the
// residual a - y^2 (exact in a fused multiply-subtract) times h corrects y in one rounding, which
// is then the correctly rounded root (every float checked). A vector with a lane outside
// [2^-64, FLT_MAX] takes vsqrt: below, the residual (~2^-24 a) loses bits to the subnormal range
// (and the estimate is inf at 0); inf's estimate is 0; negatives and NaN are rare.
inline __mmask16 vsqrt_stream_outside(V a) {
  return _mm512_cmp_ps_mask(a.v, _mm512_set1_ps(0x1p-64f), _CMP_NGE_UQ) |
         _mm512_fpclass_ps_mask(a.v, 0x08);  // +inf
}
// sqrt a ~ y and 1 / (2 sqrt a) ~ h, each within ~2^-27, from the 14-bit estimate and one coupled
// Newton step.
inline void vsqrt_newton(V a, __m512* y, __m512* h) {
  const __m512 r = _mm512_maskz_rsqrt14_ps(kAllLanes, a.v), half = _mm512_set1_ps(0.5f);
  const __m512 y0 = _mm512_mul_ps(a.v, r), h0 = _mm512_mul_ps(r, half);
  const __m512 e = _mm512_fnmadd_ps(y0, h0, half);
  *y = _mm512_fmadd_ps(y0, e, y0);
  *h = _mm512_fmadd_ps(h0, e, h0);
}
inline V vsqrt_stream(V a) {
  if (vsqrt_stream_outside(a)) return vsqrt(a);
  __m512 y, h;
  vsqrt_newton(a, &y, &h);
  return {_mm512_fmadd_ps(_mm512_fnmadd_ps(y, y, a.v), h, y)};
}
// 1 / sqrt(a) for a stream of vectors, correctly rounded but for 127 of the 2^31 positive normal
// floats (within 0.5001 ulp; 1 / vsqrt rounds twice: 1.5 ulp, as torch's). Normal lanes below 2^-64
// are scaled by 2^64 first and their result by 2^32 (both exact); lanes still outside [2^-64,
// FLT_MAX] (0, subnormals, inf, negatives, NaN) take 1 / vsqrt, lane by lane, so that a lane's bits
// never depend on its neighbours.
inline V vrsqrt_stream(V a) {
  const __mmask16 small = _mm512_cmp_ps_mask(a.v, _mm512_set1_ps(0x1p-64f), _CMP_LT_OQ);
  const V as = {_mm512_mask_mul_ps(a.v, small, a.v, _mm512_set1_ps(0x1p64f))};
  __m512 y, h;
  vsqrt_newton(as, &y, &h);
  // r = 2h within ~2^-25 (y's rounding enters h); one more Newton step on r with its residual
  // 1 - a r^2 formed to ~2^-50: q = a r and its rounding error lo exactly, then 1 - q r - lo r
  const __m512 r0 = _mm512_add_ps(h, h), q = _mm512_mul_ps(as.v, r0);
  const __m512 lo = _mm512_fmsub_ps(as.v, r0, q);
  const __m512 d = _mm512_fnmadd_ps(lo, r0, _mm512_fnmadd_ps(q, r0, _mm512_set1_ps(1.0f)));
  V r = {_mm512_fmadd_ps(_mm512_mul_ps(r0, _mm512_set1_ps(0.5f)), d, r0)};
  r.v = _mm512_mask_mul_ps(r.v, small, r.v, _mm512_set1_ps(0x1p32f));
  const __mmask16 outside = vsqrt_stream_outside(as);
  if (outside) r.v = _mm512_mask_div_ps(r.v, outside, _mm512_set1_ps(1.0f), vsqrt(a).v);
  return r;
}
inline V vsign(V a) { return {_mm512_and_ps(a.v, _mm512_set1_ps(-0.0f))}; }  // sign bit only
inline V vxor(V a, V b) { return {_mm512_xor_ps(a.v, b.v)}; }

inline M vlt(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
inline M vle(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ); }
inline M vgt(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ); }
inline M vge(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ); }
inline M veq(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ); }
inline M visnan(V a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q); }
inline V vselect(M m, V a, V b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }  // m ? a : b

// 2^n for integral n in [-126, 127]: 1 scaled by 2^n, one instruction (building the exponent
// field took three, a tenth of tanh's).
inline V vpow2(V n) { return {_mm512_maskz_scalef_ps(kAllLanes, _mm512_set1_ps(1.0f), n.v)}; }
// y * 2^n for integral n in [-252, 254]: vscalefps rounds once, so both overflow (to inf) and
// gradual underflow come out right in one instruction (AVX2 needs two exact scalings and the
// integer work to build them: 9 instructions, a fifth of an exp).
// A NaN y or n comes out NaN, so vexp needs no NaN fix-up after it.
inline V vldexp(V y, V n) { return {_mm512_maskz_scalef_ps(kAllLanes, y.v, n.v)}; }
constexpr bool kLdexpKeepsNaN = true;
// vldexp(y, n), or +0 where x < lo (not where x is NaN). The dropped lanes are masked off the
// scaling, so their underflow never happens: an underflowing result costs an Intel core a
// microcode assist of ~150 cycles, and exp(-inf) (a masked score in a softmax) paid one.
inline V vldexp_unless_below(V y, V n, V x, float lo) {
  const __mmask16 keep = _mm512_cmp_ps_mask(x.v, _mm512_set1_ps(lo), _CMP_NLT_UQ);
  return {_mm512_maskz_scalef_ps(keep, y.v, n.v)};
}
// vlog's table step (log_table.h) for positive normal x: sets k and -log(1/c) and returns
// r = z (1/c) - 1, x = 2^k z. The 32-entry tables are two registers each: one permute a lookup.
inline V vlog_table_step(V x, V* k, V* logc) {
  const __m512i ix = _mm512_castps_si512(x.v);
  const __m512i t = _mm512_sub_epi32(ix, _mm512_set1_epi32(kLogOffsetBits));
  *k = {_mm512_maskz_cvtepi32_ps(kAllLanes, _mm512_maskz_srai_epi32(kAllLanes, t, 23))};
  const __m512 z = _mm512_castsi512_ps(
      _mm512_sub_epi32(ix, _mm512_and_si512(t, _mm512_set1_epi32(int(0xff800000u)))));
  const __m512i j = _mm512_maskz_srai_epi32(kAllLanes, t, 18);  // the permutes read its low 5 bits
  const __m512 invc =
      _mm512_permutex2var_ps(_mm512_load_ps(kLogInvC), j, _mm512_load_ps(kLogInvC + 16));
  *logc = {_mm512_permutex2var_ps(_mm512_load_ps(kLogC), j, _mm512_load_ps(kLogC + 16))};
  return {_mm512_fmsub_ps(z, invc, _mm512_set1_ps(1.0f))};
}
// Whether every lane is a positive normal number (not 0, subnormal, negative, inf or NaN).
inline bool vall_positive_normal(V x) {
  const __mmask16 lo = _mm512_cmp_ps_mask(x.v, _mm512_set1_ps(1.17549435e-38f), _CMP_GE_OQ);
  const __mmask16 hi = _mm512_cmp_ps_mask(x.v, _mm512_set1_ps(__builtin_inff()), _CMP_LT_OQ);
  return (lo & hi) == kAllLanes;
}
// Whether every lane is below b (a NaN lane is not).
inline bool vall_lt(V a, float b) {
  return _mm512_cmp_ps_mask(a.v, _mm512_set1_ps(b), _CMP_LT_OQ) == kAllLanes;
}
// For integral q (|q| < 2^31): the lanes where q is odd, and the sign bit where bit 1 of q is set
// (sin and cos pick their polynomial and sign from q mod 4).
inline M vodd(V q) {
  return _mm512_test_epi32_mask(_mm512_maskz_cvtps_epi32(kAllLanes, q.v), _mm512_set1_epi32(1));
}
inline V vbit1_sign(V q) {
  const __m512i qi = _mm512_maskz_cvtps_epi32(kAllLanes, q.v);
  const __m512i s = _mm512_maskz_slli_epi32(kAllLanes, qi, 30);
  return {_mm512_castsi512_ps(_mm512_and_si512(s, _mm512_set1_epi32(int(0x80000000u))))};
}
// a = mantissa * 2^exponent with the mantissa in [1, 2), for positive normal a.
inline V vexponent(V a) { return {_mm512_maskz_getexp_ps(kAllLanes, a.v)}; }
inline V vmantissa(V a) {
  return {_mm512_maskz_getmant_ps(kAllLanes, a.v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src)};
}
// Horizontal sum and max: the same reduction tree as GCC's _mm512_reduce_add_ps / _max_ps
// (halves, then quarters, then pairs, same operand order, so the same rounding and NaN choice),
// spelled out to avoid the unmasked 256-bit extract (see kAllLanes).
inline __m256 vhigh_half(V a) {
  return _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, _mm512_castps_pd(a.v), 1));
}
inline __m256 vlow_half(V a) { return __builtin_shufflevector(a.v, a.v, 0, 1, 2, 3, 4, 5, 6, 7); }
inline float vhsum(V a) {
  __m256 h = vhigh_half(a) + vlow_half(a);
  __m128 q = _mm256_extractf128_ps(h, 1) + _mm256_castps256_ps128(h);
  __m128 p = q + _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2));
  return p[0] + p[1];
}
inline float vhmax(V a) {
  __m256 h = _mm256_max_ps(vhigh_half(a), vlow_half(a));
  __m128 q = _mm_max_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
  __m128 p = _mm_max_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_max_ps(p, _mm_shuffle_ps(p, p, _MM_SHUFFLE(0, 1, 0, 1)))[0];
}

}  // namespace
}  // namespace avx512
}  // namespace fastnn
