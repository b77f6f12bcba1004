// A thin float32 vector type for AVX2+FMA units (8 lanes). Included only by *_avx2.cpp files:
// everything sits in fastnn::avx2's anonymous namespace (see [note: ISA units]).
// Same names as vec_avx512.h, so vec_math.h and the kernel bodies are shared.
#pragma once
#include <immintrin.h>
#include <stdint.h>

#include "cpu/log_table.h"

#define FASTNN_VEC_NS avx2

namespace fastnn {
namespace avx2 {
namespace {

constexpr int64_t W = 8;
struct V {
  __m256 v;
};
typedef __m256 M;  // all-ones / all-zeros lanes

inline V vset(float a) { return {_mm256_set1_ps(a)}; }
inline V vload(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void vstore(float* p, V a) { _mm256_storeu_ps(p, a.v); }
inline __m256i tail_mask(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
// The first n < W lanes from p, the others `fill`; masked lanes are never read.
inline V vload_part(const float* p, int64_t n, float fill) {
  __m256i m = tail_mask(n);
  return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))};
}
// a's first n <= W lanes, +0 in the others.
inline V vfirst(V a, int64_t n) { return {_mm256_and_ps(a.v, _mm256_castsi256_ps(tail_mask(n)))}; }
// The first n <= W lanes to p, nothing past them. By halves, pairs and a single lane rather than
// vmaskmovps, which is microcoded on AMD cores (a loop of them took 6.2 ns a store on a Zen 3 core
// against 1.6 for plain stores), and every row of a 10-class output ends with one.
inline void vstore_part(float* p, V a, int64_t n) {
  if (n == W) return _mm256_storeu_ps(p, a.v);
  __m128 x = _mm256_castps256_ps128(a.v);
  if (n >= 4) {
    _mm_storeu_ps(p, x);
    p += 4, n -= 4, x = _mm256_extractf128_ps(a.v, 1);
  }
  if (n >= 2) {
    _mm_storel_pi(reinterpret_cast<__m64*>(p), x);
    p += 2, n -= 2, x = _mm_movehl_ps(x, x);
  }
  if (n) _mm_store_ss(p, x);
}

inline V operator+(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
inline V fmadd(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }    // a*b + c
inline V fnmadd(V a, V b, V c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }  // c - a*b
inline V fmsub(V a, V b, V c) { return {_mm256_fmsub_ps(a.v, b.v, c.v)}; }    // a*b - c
// max/min return the second operand when either is NaN (x86 semantics): callers order them.
inline V vmax(V a, V b) { return {_mm256_max_ps(a.v, b.v)}; }
inline V vmin(V a, V b) { return {_mm256_min_ps(a.v, b.v)}; }
inline V vabs(V a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)}; }
inline V vsqrt(V a) { return {_mm256_sqrt_ps(a.v)}; }
// 1/a within 1.5 2^-12 relative (a correction term's divisor, never a result's)
inline V vrcp(V a) { return {_mm256_rcp_ps(a.v)}; }
// sqrt(a) for a stream of vectors (the AVX-512 header's form starts from a 14-bit estimate; the
// 12-bit one here would need a second Newton step, and a 256-bit vsqrtps is quick enough).
inline V vsqrt_stream(V a) { return vsqrt(a); }
inline V vrsqrt_stream(V a) { return {_mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_sqrt_ps(a.v))}; }
inline V vsign(V a) { return {_mm256_and_ps(a.v, _mm256_set1_ps(-0.0f))}; }  // sign bit only
inline V vxor(V a, V b) { return {_mm256_xor_ps(a.v, b.v)}; }

inline M vlt(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
inline M vle(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ); }
inline M vgt(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ); }
inline M vge(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ); }
inline M veq(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ); }
inline M visnan(V a) { return _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q); }
inline V vselect(M m, V a, V b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }  // m ? a : b

// vlog's table step (log_table.h) for positive normal x: sets k and -log(1/c) and returns
// r = z (1/c) - 1, x = 2^k z. The lookups are gathers (eight lanes from a 32-entry table).
inline V vlog_table_step(V x, V* k, V* logc) {
  const __m256i ix = _mm256_castps_si256(x.v);
  const __m256i t = _mm256_sub_epi32(ix, _mm256_set1_epi32(kLogOffsetBits));
  *k = {_mm256_cvtepi32_ps(_mm256_srai_epi32(t, 23))};
  const __m256 z = _mm256_castsi256_ps(
      _mm256_sub_epi32(ix, _mm256_and_si256(t, _mm256_set1_epi32(int(0xff800000u)))));
  const __m256i j = _mm256_and_si256(_mm256_srai_epi32(t, 18), _mm256_set1_epi32(31));
  const __m256 invc = _mm256_i32gather_ps(kLogInvC, j, 4);
  *logc = {_mm256_i32gather_ps(kLogC, j, 4)};
  return {_mm256_fmsub_ps(z, invc, _mm256_set1_ps(1.0f))};
}
// Whether every lane is a positive normal number (not 0, subnormal, negative, inf or NaN).
inline bool vall_positive_normal(V x) {
  const __m256 lo = _mm256_cmp_ps(x.v, _mm256_set1_ps(1.17549435e-38f), _CMP_GE_OQ);
  const __m256 hi = _mm256_cmp_ps(x.v, _mm256_set1_ps(__builtin_inff()), _CMP_LT_OQ);
  return _mm256_movemask_ps(_mm256_and_ps(lo, hi)) == 0xFF;
}
// a = mantissa * 2^exponent with the mantissa in [1, 2), for positive normal a (the bits
// read directly: no sign, no subnormal, NaN or infinity handling).
inline V vexponent(V a) {
  __m256i e = _mm256_srli_epi32(_mm256_castps_si256(a.v), 23);
  return {_mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)))};
}
inline V vmantissa(V a) {
  __m256 frac = _mm256_and_ps(a.v, _mm256_castsi256_ps(_mm256_set1_epi32(0x007FFFFF)));
  return {_mm256_or_ps(frac, _mm256_set1_ps(1.0f))};
}
// Whether every lane is below b (a NaN lane is not).
inline bool vall_lt(V a, float b) {
  return _mm256_movemask_ps(_mm256_cmp_ps(a.v, _mm256_set1_ps(b), _CMP_LT_OQ)) == 0xFF;
}
// For integral q (|q| < 2^31): the lanes where q is odd, and the sign bit where bit 1 of q is set
// (sin and cos pick their polynomial and sign from q mod 4).
inline M vodd(V q) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i qi = _mm256_cvtps_epi32(q.v);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(qi, one), one));
}
inline V vbit1_sign(V q) {
  const __m256i s = _mm256_slli_epi32(_mm256_cvtps_epi32(q.v), 30);
  return {_mm256_castsi256_ps(_mm256_and_si256(s, _mm256_set1_epi32(int(0x80000000u))))};
}
// 2^n for integral n in [-126, 127] (the exponent field built directly).
inline V vpow2(V n) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
  return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
}
// y * 2^n for integral n in [-252, 254], as two exact power-of-two scalings (see vec_avx512.h).
inline V vldexp(V y, V n) {
  __m256i ni = _mm256_cvtps_epi32(n.v);
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  __m256i bias = _mm256_set1_epi32(127);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return {_mm256_mul_ps(_mm256_mul_ps(y.v, s1), s2)};
}
constexpr bool kLdexpKeepsNaN = false;  // a NaN n converts to INT_MIN: vexp restores NaN
// vldexp(y, n), or +0 where x < lo (not where x is NaN): the dropped lanes scale by 2^0, so no
// underflow (and no microcode assist, see vec_avx512.h) happens in them.
// When every x is in [-87, 88] (a softmax's shifted scores, an activation's inputs), y 2^n is a
// normal float: n is added to y's exponent field, 3 instructions instead of 12 (and vexp's NaN
// restore is not needed: no lane is NaN).
inline V vldexp_unless_below(V y, V n, V x, float lo) {
  const __m256 in = _mm256_and_ps(_mm256_cmp_ps(x.v, _mm256_set1_ps(-87.0f), _CMP_GE_OQ),
                                  _mm256_cmp_ps(x.v, _mm256_set1_ps(88.0f), _CMP_LE_OQ));
  if (_mm256_movemask_ps(in) == 0xFF) {
    const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n.v), 23);
    return {_mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y.v), e))};
  }
  const __m256 keep = _mm256_cmp_ps(x.v, _mm256_set1_ps(lo), _CMP_NLT_UQ);
  const V r = vldexp(y, {_mm256_and_ps(n.v, keep)});
  return {_mm256_and_ps(r.v, keep)};
}
inline float vhsum(V a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline float vhmax(V a) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace
}  // namespace avx2
}  // namespace fastnn
