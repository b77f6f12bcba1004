// Vectorised float32 exp, expm1, log, log1p, atan, sigmoid, tanh, the normal CDF, erf, sin and cos
// for the ISA units, written once over the V type of vec_avx512.h / vec_avx2.h (include one first).
// Accuracy target ~1-2 ulp; tests/test_activations.py checks it against float64 references on every
// ISA path. Polynomials: exp and log are Cephes' (its single-precision expf and logf); the others
// are least-squares fits of the relative error on Chebyshev nodes (float32 coefficients; max error
// < 1 ulp in float64 evaluation). The scalar definitions they mirror are in csrc/scalar_math.h.
#pragma once
#ifndef FASTNN_VEC_NS
#error "include vec_avx512.h or vec_avx2.h before vec_math.h"
#endif

namespace fastnn {
namespace FASTNN_VEC_NS {
namespace {

// Polynomial c[0] + c[1] u + ... (Horner, fused multiply-adds).
template <int N>
inline V vpoly(V u, const float (&c)[N]) {
  V p = vset(c[N - 1]);
  for (int i = N - 2; i >= 0; --i) p = fmadd(p, u, vset(c[i]));
  return p;
}

// round(a c) for |a c| < 2^22 (the reductions' quotients): adding 1.5 * 2^23 inside the fused
// multiply-add rounds the exact product to an integer (ties to even), and subtracting it takes
// the integer back, two micro-ops where a multiply and a round took three on Intel cores (exp
// 6.85 -> 6.4 TSC ticks a vector). A lane past the range gives garbage, which every caller
// masks off or replaces.
inline V vround_product(V a, float c) {
  const V shift = vset(12582912.0f);
  return fmadd(a, vset(c), shift) - shift;
}

// exp(x): x = n ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2), e^r = 1 + r + r^2 P(r) with
// Cephes' P, then scaled by 2^n (vldexp) so results overflow to inf and underflow gradually. The
// polynomial is one Horner chain down to its 1 (one instruction fewer than r + r^2 P(r), then + 1,
// and the last rounding is one fused multiply-add's: within 0.88 ulp of float64's exp, 0.99
// before). exp(x) from x already held where the reduction stays finite (xc) or where it is masked
// off (below -104).
inline V vexp_reduced(V x, V xc) {
  V n = vround_product(xc, 1.44269504088896341f);
  V r = fnmadd(n, vset(0.693359375f), xc);
  r = fnmadd(n, vset(-2.12194440e-4f), r);
  static const float c[8] = {1.0f,
                             1.0f,
                             5.0000001201E-1f,
                             1.6666665459E-1f,
                             4.1665795894E-2f,
                             8.3334519073E-3f,
                             1.3981999507E-3f,
                             1.9875691500E-4f};
  V y = vpoly(r, c);
  // Below -104 exp rounds to +0: those lanes (-inf among them) skip the underflowing scaling.
  if constexpr (kLdexpKeepsNaN) return vldexp_unless_below(y, n, x, -104.0f);  // NaN x: NaN n, y
  return vselect(visnan(x), x, vldexp_unless_below(y, n, x, -104.0f));
}
inline V vexp(V x) {
  // min puts x second so that a NaN x is kept (where vldexp does not keep it, it is restored).
  // No lower clamp: a lane below -104 (-inf among them) reduces to garbage and is zeroed, as in
  // vexp_nonpositive.
  return vexp_reduced(x, vmin(vset(89.0f), x));
}
// exp(x) for x <= 0 or NaN (exp(-|z|), exp(-a^2/2), a softmax's x - max and its log-probabilities):
// no clamping. A lane below -104, -inf among them, reduces to garbage and is then zeroed with the
// others that underflow; nothing overflows.
inline V vexp_nonpositive(V x) { return vexp_reduced(x, x); }

// exp(x - m) on the first n <= W lanes at x, +0 in the others. The others are computed as
// exp(0) and then cleared: read as -inf, they made vexp's scaling underflow, and Intel cores
// finish an underflowing result in a microcode assist of a hundred cycles or more, so every
// padded row paid one (a 10-class softmax cross-entropy took 110 ns a row instead of 25).
inline V vexp_part(const float* x, int64_t n, float m) {
  return vfirst(vexp_nonpositive(vload_part(x, n, m) - vset(m)), n);
}

// log(1 + f) = f - f^2/2 + f^3 P(f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]: Cephes' logf.
constexpr float kLogPoly[9] = {3.3333331174E-1f,  -2.4999993993E-1f, 2.0000714765E-1f,
                               -1.6668057665E-1f, 1.4249322787E-1f,  -1.2420140846E-1f,
                               1.1676998740E-1f,  -1.1514610310E-1f, 7.0376836292E-2f};

// log(u) for u in [1, 2] (all log1p needs): u = 2^k (1 + f), k in {0, 1}, |f| < 0.42.
inline V vlog_1_2(V u) {
  M hi = vge(u, vset(1.41421356237f));
  V k = vselect(hi, vset(1.0f), vset(0.0f));
  V f = vselect(hi, fmsub(u, vset(0.5f), vset(1.0f)), u - vset(1.0f));
  V z = f * f;
  V y = vpoly(f, kLogPoly) * f * z;
  y = fmadd(k, vset(-2.12194440e-4f), y);
  y = fnmadd(vset(0.5f), z, y);
  return fmadd(k, vset(0.693359375f), f + y);
}

// log(xs) by the table (log_table.h) for positive normal xs, less kadj ln2: xs = 2^k z,
// log xs = k ln2 + kLogC[j] + log1p(r), |r| <= 1/32, log1p's series to r^5 within 5e-9 of it
// (relative); ln2 in two parts, as in vexp, so that k ln2 adds no rounding of its own.
inline V vlog_table(V xs, V kadj) {
  V k, logc;
  const V r = vlog_table_step(xs, &k, &logc);
  k = k - kadj;
  V p = fmadd(r, vset(0.2f), vset(-0.25f));
  p = fmadd(p, r, vset(0.333333343f));
  p = fmadd(p, r, vset(-0.5f));
  const V y = fmadd(r * r, p, r);
  return fmadd(k, vset(0.693359375f), logc) + fmadd(k, vset(-2.12194440e-4f), y);
}

// log(x) for any x, within 1.1 ulp, with numpy's special values: -inf at +-0, NaN (numpy's bits)
// below 0, inf at inf, a NaN kept. A vector with a lane that is not a positive normal number
// computes its subnormal lanes as (2^23 x) 2^-23, its other special lanes as log 1, then puts
// their values in: each normal lane gets the same bits whatever its neighbours.
inline V vlog(V x) {
  if (vall_positive_normal(x)) return vlog_table(x, vset(0.0f));
  const float inf = __builtin_inff();
  const M sub = vlt(x, vset(1.17549435e-38f));  // (0 and negatives too: replaced below)
  V xs = vselect(sub, x * vset(8388608.0f), x);
  xs = vselect(vlt(xs, vset(1.17549435e-38f)), vset(1.0f), xs);
  xs = vselect(vlt(xs, vset(inf)), xs, vset(1.0f));  // inf and NaN
  V r = vlog_table(xs, vselect(sub, vset(23.0f), vset(0.0f)));
  r = vselect(veq(x, vset(inf)), x, r);
  r = vselect(vlt(x, vset(0.0f)), vset(-__builtin_nanf("")), r);
  r = vselect(veq(x, vset(0.0f)), vset(-inf), r);
  return vselect(visnan(x), x, r);
}

// log(x) for normal x >= 1 (a softmax's sum), or NaN (kept): x = m 2^e, m in [1, 2), log x =
// e ln2 + log m. (Below 1, e ln2 and log m nearly cancel: vlog is the general one.)
inline V vlog_pos(V x) {
  V e = vexponent(x);
  V r = fmadd(e, vset(-2.12194440e-4f), vlog_1_2(vmantissa(x)));
  return vselect(visnan(x), x, fmadd(e, vset(0.693359375f), r));
}

// log(1 + e) for e in [0, 1], accurate for tiny e: log(u) * e / (u - 1) with u = 1 + e rounded
// (the rounding error of u cancels; Goldberg's trick). e == 0 or u == 1 gives e.
inline V vlog1p_01(V e) {
  V u = e + vset(1.0f);
  V d = u - vset(1.0f);
  V r = vlog_1_2(u) * (e / d);
  return vselect(veq(d, vset(0.0f)), e, r);
}

// log(1 + x) for any x, with u = 1 + x rounded = 2^k m, m in [sqrt(1/2), sqrt 2): log1p x =
// k ln2 + log(1 + f) + e/u, f = m - 1 (exact) and e = 1 + x - u, u's rounding error (exact: the
// larger operand goes first). Where k = 0, f is x itself and e is 0, so a tiny x keeps its
// relative accuracy; elsewhere |log1p x| > 0.34, and e/u, below 2^-24, is a correction that an
// approximate reciprocal carries well enough (no division). Special values as the C library's:
// -inf at -1, NaN below, inf at inf, -0 kept, a NaN kept.
inline V vlog1p(V x) {
  const V one = vset(1.0f), u = x + one;
  const V e = vselect(vgt(x, one), one - (u - x), x - (u - one));
  V k = vexponent(u), m = vmantissa(u);  // m in [1, 2)
  const M hi = vge(m, vset(1.41421356237f));
  k = vselect(hi, k + one, k);
  m = vselect(hi, m * vset(0.5f), m);
  const M near = veq(k, vset(0.0f));
  const V f = vselect(near, x, m - one);
  const V z = f * f;
  V y = fmadd(vpoly(f, kLogPoly) * f, z, vselect(near, vset(0.0f), e * vrcp(u)));
  y = fmadd(k, vset(-2.12194440e-4f), y);
  y = fnmadd(vset(0.5f), z, y);
  V r = fmadd(k, vset(0.693359375f), f + y);
  const float inf = __builtin_inff();
  r = vselect(veq(x, vset(inf)), x, r);
  r = vselect(veq(x, vset(-1.0f)), vset(-inf), r);
  r = vselect(vlt(x, vset(-1.0f)), vset(-__builtin_nanf("")), r);
  r = vselect(veq(x, vset(0.0f)), x, r);
  return vselect(visnan(x), x, r);
}

// atan(x) = sign(x) (b + atan t): t = |x| (b = 0) up to 1, t = -1/|x| (b = pi/2) beyond. atan t
// = t + t^3 P(t^2) on [-1, 1], P a least-squares fit of the relative error (below 2.4e-8 with its
// float32 coefficients); b in two parts, the low one added to the small terms, so that b's own
// rounding does not reach the result (within 1.34 ulp, at |x| = 1.076: the roundings of t and of
// the last two sums). One division for both ranges, and no more than two ranges: with 512-bit
// vectors only two ports compute, so instructions count, and a third range (t = (|x| - 1) / (|x| +
// 1) about 1, a shorter polynomial) cost 46 instructions a vector against 26. A NaN stays NaN.
inline V vatan(V x) {
  const V a = vabs(x), zero = vset(0.0f);
  const M big = vgt(a, vset(1.0f));
  const V t = vselect(big, vset(-1.0f), a) / vselect(big, a, vset(1.0f)), z = t * t;
  static const float c[8] = {-0.33333152532577515f, 0.19993773102760315f,  -0.14211054146289825f,
                             0.10666000843048096f,  -0.0755220577120781f,  0.04321175441145897f,
                             -0.01636786386370659f, 0.0029206760227680206f};
  const V small = fmadd(t * z, vpoly(z, c), vselect(big, vset(-4.37113883e-8f), zero));
  return vxor(vselect(big, vset(1.57079637f), zero) + (t + small), vsign(x));
}

// sigmoid via e = exp(-|x|) (csrc/scalar_math.h sigmoid); e is returned for callers that reuse it.
inline V vsigmoid_e(V x, V e) {
  V r = vset(1.0f) / (vset(1.0f) + e);
  return vselect(vge(x, vset(0.0f)), r, e * r);  // NaN x: e is NaN, so e*r is NaN
}
inline V vsigmoid(V x) { return vsigmoid_e(x, vexp_nonpositive(vset(0.0f) - vabs(x))); }

// tanh |x| = -m / (m + 2) with m = expm1(-2|x|) in (-1, 0], the sign put back: one formula for
// every x (two branches, a polynomial near 0 and 1 - 2 / (e^2|x| + 1), were both computed for
// every lane). With -2|x| = n ln2 + r, |r| <= ln2/2, m = 2^n (expm1(r) + 1) - 1: for n = 0
// (|x| < 0.17) that is expm1(r) itself, r = -2|x| exactly, so tanh keeps its relative accuracy
// near 0; otherwise 2^n - 1 in [-1, -0.5] takes at most 0.41 2^n: no cancellation. expm1(r) =
// r + r^2 (1/2 + r Q(r)), Q a least-squares fit (relative error 7.3e-10). |x| stops at 9.5,
// where tanh is 1 in float32 and 2^n stays normal.
inline V vtanh(V x) {
  const V a = vmin(vset(9.5f), vabs(x));  // NaN stays NaN
  const V u = a * vset(-2.0f);
  const V n = vround_product(u, 1.44269504088896341f);
  V r = fnmadd(n, vset(0.693359375f), u);
  r = fnmadd(n, vset(-2.12194440e-4f), r);
  static const float c[5] = {0.1666666567325592f, 0.04166647791862488f, 0.008333499543368816f,
                             0.0013933558948338032f, 0.0001977980718947947f};
  const V expm1_r = fmadd(r * r, fmadd(r, vpoly(r, c), vset(0.5f)), r);
  // -m and m + 2 each in one rounding (1 - 2^n and 1 + 2^n are exact): forming m first and
  // adding 2 doubled its rounding error near tanh = 1 (2.5 ulp at |x| = 3.5; the worst is now
  // 1.9 ulp, at 0.51)
  const V p = vpow2(n);
  const V num = fnmadd(p, expm1_r, vset(1.0f) - p), den = fmadd(p, expm1_r, vset(1.0f) + p);
  return vxor(num / den, vsign(x));
}

// expm1(x) = 2^n expm1(r) + (2^n - 1), x = n ln2 + r, |r| <= ln2/2, expm1(r) by vtanh's
// polynomial. For n = 0 (|x| < 0.35) that is expm1(r) with r = x exactly: relative accuracy near
// 0, where exp(x) - 1 cancels. Elsewhere 2^n - 1 is larger than the rest, so one rounding. It is
// written 2 (h expm1(r) + (h - 1/2)) with h = 2^(n-1): h - 1/2 is exact for -24 <= n <= 24 (x is
// clamped to -16.5, n = -24, below) and 2^n never overflows before the last doubling, which
// gives inf past 88.72. Below -25 ln2 the result rounds to -1; from there to -16.5 to the float
// above -1, expm1(-16.5) rounded. For |x| < 2^-24 it rounds to x itself (kept: -0, subnormals).
inline V vexpm1(V x) {
  const V xc = vmax(vset(-16.5f), vmin(vset(89.0f), x));
  const V n = vround_product(xc, 1.44269504088896341f);
  V r = fnmadd(n, vset(0.693359375f), xc);
  r = fnmadd(n, vset(-2.12194440e-4f), r);
  static const float c[5] = {0.1666666567325592f, 0.04166647791862488f, 0.008333499543368816f,
                             0.0013933558948338032f, 0.0001977980718947947f};
  const V expm1_r = fmadd(r * r, fmadd(r, vpoly(r, c), vset(0.5f)), r);
  const V h = vpow2(n - vset(1.0f));
  const V y = fmadd(h, expm1_r, h - vset(0.5f));
  const V clamped = vselect(vlt(x, vset(-17.3286795f)), vset(-1.0f), y + y);
  return vselect(vge(vabs(x), vset(0x1p-24f)), clamped, x);  // (a NaN x fails the test: kept)
}

// The standard normal upper tail Q(a) = Phi(-a) for a >= 0 (NaN kept), and exp(-a^2/2) (the pdf
// without its 1/sqrt(2 pi)). Q(a) = exp(-a^2/2) G(a), where G(a) = Q(a) e^{a^2/2} is smooth, 0.5
// at 0 and ~ 1/(a sqrt(2 pi)) for large a; (a + c) G(a) is nearly flat (0.81 at 0, 0.40 at
// infinity), so a polynomial in q = (a - c)/(a + c), which maps [0, inf) to [-1, 1), fits it
// closely (relative error 2.3e-8, c = 1.625, up to a = 14.5, past which exp(-a^2/2) is 0 in
// float32). a^2/2 is split into s + t exactly (fused multiply-subtract) so that exp(-a^2/2) keeps
// its relative accuracy for large a (exp(-s-t) = exp(-s)(1 - t)).
inline V vnormal_tail(V a, V* gauss) {
  a = vmin(vset(14.5f), a);  // NaN stays NaN
  V h = a * vset(0.5f);
  V s = h * a;
  V t = fmsub(h, a, s);
  V e = vexp_nonpositive(vset(0.0f) - s);
  e = fnmadd(e, t, e);
  *gauss = e;
  static const float cg[11] = {
      0.6338251233100891f,     -0.23261386156082153f,  -0.03960566595196724f,
      0.027336478233337402f,   0.015062693506479263f,  -1.3610111636808142e-05f,
      -0.0037808597553521395f, -0.002072772942483425f, -2.715067466851906e-06f,
      0.0005897781229577959f,  0.00022744970920030028f};
  const V c = vset(1.625f);
  V r = vset(1.0f) / (a + c);
  V q = (a - c) * r;
  return e * (vpoly(q, cg) * r);
}

// The standard normal CDF Phi(x), one formula for every x: Q(|x|) for x < 0 (relative accuracy
// down to the underflow) and 1 - Q(|x|) otherwise; *gauss = exp(-x^2/2).
inline V vnormal_cdf(V x, V* gauss) {
  V tail = vnormal_tail(vabs(x), gauss);
  return vselect(vlt(x, vset(0.0f)), tail, vset(1.0f) - tail);
}

// erf(x) = x + x R(x^2) for |x| < 0.9, R(u) = 2/sqrt(pi) - 1 + u S(u) (S a least-squares fit of
// erf's relative error, < 3.3e-10): the leading 1 is exact, so neither the rounding of 2/sqrt(pi)
// nor R's own errors (scaled by |R| <= 0.13) come near an ulp. Elsewhere erf |x| = 1 - erfc |x|
// with erfc a = exp(-a^2) G(a), G = erfc e^{a^2} smooth on [0.9, 4] (past 4 erf is 1 in float32):
// erf >= 0.79 there, so erfc needs only absolute accuracy: G is a polynomial in a - 2.45 fitted for
// erfc's absolute error with a tolerance of min(2^-26, 0.3 % of erfc) (the last keeps erf's
// rounding right where erfc nears 2^-25, at 3.92), within it with float32 coefficients; erf within
// 1.2 ulp. The normal tail, which keeps a relative accuracy erf does not need, took 56
// instructions a vector against 49 (a division and an 11-term polynomial). a^2 is split into s + t
// exactly, as in vnormal_tail, so that exp(-a^2) keeps its relative accuracy.
inline V verf(V x) {
  static const float c[7] = {0.12837916612625122f,  -0.37612634897232056f,  0.11283726990222931f,
                             -0.02686101756989956f, 0.0052049062214791775f, -0.0008185961050912738f,
                             8.552226790925488e-05f};
  static const float g[10] = {0.21458803117275238f,     -0.07689987123012543f,
                              0.02615617960691452f,     -0.008595720864832401f,
                              0.002579020569100976f,    -0.0007540078368037939f,
                              0.00034681029501371086f,  -2.9847491532564163e-05f,
                              -1.1759369954233989e-05f, -2.339656202821061e-05f};
  const V a = vmin(vset(4.0f), vabs(x));  // NaN stays NaN
  const V small = fmadd(x, vpoly(x * x, c), x);
  const V s = a * a;
  V e = vexp_nonpositive(vset(0.0f) - s);
  e = fnmadd(e, fmsub(a, a, s), e);
  const V big = fnmadd(e, vpoly(a - vset(2.45f), g), vset(1.0f));
  return vselect(vlt(a, vset(0.9f)), small, vxor(big, vsign(x)));
}

// sin and cos. |x| = q pi/2 + r with q = round(|x| 2/pi), |r| <= pi/4 (a hair more from the
// rounding of |x| 2/pi); pi/2 is three float parts C1 + C2 + C3, each product q Ci formed exactly
// inside a fused multiply-add. q C1 and |x| (> 0.78 when q > 0) are multiples of 2^-24 and their
// difference is below 1, so the first step is exact; the other two round near r itself. Then
// sin r = r + r^3 S(r^2) and cos r = 1 + r^2 C(r^2) (least-squares fits of the relative error,
// < 4e-9 and 1.2e-10), chosen and signed by q mod 4. Lanes of |x| >= kTrigMax (where r's error
// grows past an ulp), inf and NaN go through the C library in double.
constexpr float kTrigMax = 65536.0f;

template <bool kCos>
inline V vsincos(V x) {
  static const float cs[3] = {-0.16666655242443085f, 0.008332161232829094f,
                              -0.00019515285384841263f};
  static const float cc[4] = {-0.5f, 0.04166664555668831f, -0.0013887316454201937f,
                              2.4433153157588094e-05f};
  const V a = vabs(x);
  const bool in_range = vall_lt(a, kTrigMax);
  const V v = in_range ? a : vselect(vlt(a, vset(kTrigMax)), a, vset(0.0f));
  const V q = vround_product(v, 0.636619772367581f);
  V r = fnmadd(q, vset(1.5707963705062866f), v);
  r = fnmadd(q, vset(-4.371138828673793e-08f), r);
  r = fnmadd(q, vset(-1.7151245100058819e-15f), r);
  const V u = r * r;
  const V s = fmadd(r * u, vpoly(u, cs), r);
  const V c = fmadd(u, vpoly(u, cc), vset(1.0f));
  // sin |x| by q mod 4: sin r, cos r, -sin r, -cos r; cos |x| = sin(|x| + pi/2), i.e. q + 1.
  V y = kCos ? vxor(vselect(vodd(q), s, c), vbit1_sign(q + vset(1.0f)))
             : vxor(vselect(vodd(q), c, s), vxor(vbit1_sign(q), vsign(x)));
  if (in_range) return y;
  alignas(64) float xs[W], ys[W];  // only the lanes out of range change: none depends on another
  vstore(xs, x);
  vstore(ys, y);
  for (int64_t i = 0; i < W; ++i)
    if (!(__builtin_fabsf(xs[i]) < kTrigMax))
      ys[i] = float(kCos ? __builtin_cos(double(xs[i])) : __builtin_sin(double(xs[i])));
  return vload(ys);
}

}  // namespace
}  // namespace FASTNN_VEC_NS
}  // namespace fastnn
