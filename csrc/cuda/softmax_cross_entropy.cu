// Fused softmax cross-entropy on the GPU, torch.nn.functional.cross_entropy semantics, the same
// formulas as csrc/cpu/softmax_cross_entropy.cpp: logits (N, C); targets are class indices (N,)
// (int64/int32, rows equal to ignore_index count for nothing) or class probabilities (N, C);
// optional class weights w (C,); label smoothing eps. With m = row max, s = sum exp(z - m),
// ls = log s, W = sum w:
//   index target y:  loss = (1-eps) w_y ((m - z_y) + ls) + eps/C (sum_c w_c (m - z_c) + W ls)
//                    dz_c = p_c ((1-eps) w_y + eps/C W) - (1-eps) w_y [c = y] - eps/C w_c
//   probabilities t: t' = (1-eps) t + eps/C, S = sum_c w_c t'_c;
//                    loss = sum_c w_c t'_c (m - z_c) + S ls;  dz_c = p_c S - w_c t'_c
// 'mean' divides by sum of w_y over counted rows (by N for probability targets).
// Launches, all on current_stream(), none synchronizing the host:
//   (1) index targets: a grid validates the labels and sums the 'mean' weights; a bad label goes
//       to the deferred report ([note: deferred target check] in target_error.h);
//   (2) the rows: rows of C <= 1024 sit in registers (g <= 32 lanes per row), wider rows take a
//       block each and find m and s in one online pass (row_softmax.cuh), then write the gradient
//       (a few very wide rows: several blocks per row, two passes);
//       the row loss is written ('none') or added to a per-block partial;
//   (3) inside (2), the last block to finish sums the partials in block order (and (1) likewise
//       for its sums): the total is the same bit for bit on every run, no float atomics.
#include "cuda/row_softmax.cuh"
#include "cuda/target_error.h"

namespace fastnn::cuda {
namespace {
namespace fm = fastnn::math;

constexpr int kNarrowThreads = 128;
constexpr int64_t kMaxRowBlocks = 2048;  // grid-stride beyond: bounds the partials to sum
constexpr int kLabelThreads = 256;
constexpr int64_t kMaxLabelBlocks = 256;
constexpr int kSplitThreads = 256;
constexpr int kWideThreads = 512;  // at most 128 registers a thread: no spills in double

struct XentStats {
  double denom;                // 'mean' divisor for index targets: sum of w_y over counted rows
  double w_total;              // sum of the class weights (C without weights)
  unsigned long long bad_key;  // N - (lowest bad row), 0 when every label is valid (atomicMax)
  int64_t bad_label;           // labels[lowest bad row] (read by the synchronous fallback)
  unsigned int labels_ticket;  // blocks of (1) done
  unsigned int rows_ticket;    // blocks of (2) done
};

// Everything the rows kernels read, as one kernel argument.
template <class T, class I>
struct XentArgs {
  T* row_loss;      // (N,) for 'none', else null
  T* loss;          // the reduced loss (one value), or null for 'none'
  double* partial;  // one per block (reduced only)
  XentStats* st;
  T* dlogits;  // (N, C) or null
  const T* logits;
  const I* labels;  // exactly one of labels and probs is set
  const T* probs;
  const T* weight;  // (C,) or null
  int64_t N, C, ignore_index;
  T eps;
  bool mean;
};

// Sum of `mine` over the block, stored as this block's partial; the last block to arrive adds
// the partials in block order and writes the loss. All threads of the block must call it.
template <class T, class I>
__device__ void finish_total(const XentArgs<T, I>& a, double mine) {
  __shared__ double shared[32];
  __shared__ bool last;
  const unsigned block = blockIdx.y * gridDim.x + blockIdx.x, blocks = gridDim.x * gridDim.y;
  const double part = block_sum(mine, shared);
  if (threadIdx.x == 0) {
    a.partial[block] = part;
    __threadfence();  // the partial is visible device-wide before the ticket
    last = atomicAdd(&a.st->rows_ticket, 1u) == blocks - 1;
  }
  __syncthreads();
  if (!last) return;
  double total = 0.0;
  for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x) total += __ldcg(a.partial + b);
  total = block_sum(total, shared);
  if (threadIdx.x == 0) {
    const double denom = a.labels ? a.st->denom : static_cast<double>(a.N);
    a.loss[0] = static_cast<T>(a.mean ? total / denom : total);  // 0/0 = NaN, as on the CPU
  }
}

// The per-row constants of the loss and gradient: g_j = e_j ca - cb w_j - [j == y] cy for index
// targets, g_j = e_j ca - scale w_j t'_j for probabilities (e_j = exp(z_j - m)).
template <class T>
struct RowTerms {
  T loss, ca, cb, cy;
};

// sm: sum w_j (m - z_j) (index targets, smoothing) or sum w_j t'_j (m - z_j) (probabilities);
// S: sum w_j t'_j (probabilities).
template <class T, class I>
__device__ __forceinline__ RowTerms<T> row_terms(const XentArgs<T, I>& a, int64_t r, int64_t y, T m,
                                                 T s, T sm, T S, T W, T scale) {
  const T ls = fm::m_log(s);
  RowTerms<T> t{T(0), T(0), T(0), T(0)};
  if (a.labels) {
    const T one_m = T(1) - a.eps, eps_c = a.eps / static_cast<T>(a.C);
    const T wy = a.weight ? a.weight[y] : T(1);
    t.loss = one_m * wy * ((m - a.logits[r * a.C + y]) + ls);
    if (a.eps != T(0)) t.loss += eps_c * (sm + W * ls);
    t.ca = scale * (one_m * wy + eps_c * W) / s;
    t.cb = scale * a.eps / static_cast<T>(a.C);
    t.cy = scale * one_m * wy;
  } else {
    t.loss = sm + S * ls;
    t.ca = scale * S / s;
  }
  return t;
}

template <class T, class I>
__device__ __forceinline__ T grad_at(const XentArgs<T, I>& a, const RowTerms<T>& t, int64_t r,
                                     int64_t j, int64_t y, T e, T scale) {
  const T wj = a.weight ? a.weight[j] : T(1);
  if (a.labels) {
    T g = e * t.ca - t.cb * wj;
    if (j == y) g -= t.cy;
    return g;
  }
  const T q = (T(1) - a.eps) * a.probs[r * a.C + j] + a.eps / static_cast<T>(a.C);
  return e * t.ca - scale * q * wj;
}

template <class T, class I>
__device__ __forceinline__ T grad_scale(const XentArgs<T, I>& a) {
  if (!a.mean) return T(1);
  return static_cast<T>(1.0 / (a.labels ? a.st->denom : static_cast<double>(a.N)));
}

// A row's label, and whether the row counts (not ignored, in range: a bad one is reported by (1)).
template <class T, class I>
__device__ __forceinline__ bool row_counts(const XentArgs<T, I>& a, int64_t r, int64_t& y) {
  y = -1;
  if (!a.labels) return true;
  y = static_cast<int64_t>(a.labels[r]);
  return !(y == a.ignore_index || y < 0 || y >= a.C);
}

// (1): validate the labels, sum w_y over counted rows and W; report the lowest bad row.
template <class T, class I>
__global__ void xent_labels_kernel(XentStats* st, double* partial, TargetErrorRecord* rec,
                                   const I* labels, const T* weight, int64_t N, int64_t C,
                                   int64_t ignore_index) {
  __shared__ double shared[32];
  __shared__ bool last;
  double d = 0.0;
  FASTNN_KERNEL_LOOP(i, N) {
    const int64_t y = static_cast<int64_t>(labels[i]);
    if (y == ignore_index) continue;
    if (y < 0 || y >= C) {
      atomicMax(&st->bad_key, static_cast<unsigned long long>(N - i));
      continue;
    }
    d += weight ? static_cast<double>(weight[y]) : 1.0;
  }
  d = block_sum(d, shared);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = d;
    __threadfence();
    last = atomicAdd(&st->labels_ticket, 1u) == gridDim.x - 1;
  }
  __syncthreads();
  if (!last) return;
  double denom = 0.0, wt = 0.0;
  for (int64_t b = threadIdx.x; b < gridDim.x; b += blockDim.x) denom += __ldcg(partial + b);
  denom = block_sum(denom, shared);
  if (weight)
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) wt += static_cast<double>(weight[c]);
  wt = block_sum(wt, shared);
  if (threadIdx.x == 0) {
    st->denom = denom;
    st->w_total = weight ? wt : static_cast<double>(C);
    const unsigned long long key = atomicAdd(&st->bad_key, 0ull);  // read at L2
    if (key != 0) {
      const int64_t row = N - static_cast<int64_t>(key);
      const int64_t label = static_cast<int64_t>(labels[row]);
      st->bad_label = label;
      volatile TargetErrorRecord* v = rec;
      if (v != nullptr && v->state == 0) {  // a report the host has not taken yet wins
        v->row = row;
        v->label = label;
        v->classes = C;
        v->ignore_index = ignore_index;
        __threadfence_system();  // the fields reach the host before the state
        v->state = 1;
        __threadfence_system();
      }
    }
  }
}

// (2), rows of C <= 1024: g lanes per row, VPT logits per lane in registers.
template <class T, class I, int VPT>
__global__ void xent_narrow_kernel(XentArgs<T, I> a, int g) {
  const int C = static_cast<int>(a.C);
  const bool acc = a.probs != nullptr || a.eps != T(0);  // uniform: the sums below are uniform
  const T one_m = T(1) - a.eps, eps_c = a.eps / static_cast<T>(C);
  const T W = a.labels ? static_cast<T>(a.st->w_total) : T(0);
  const T scale = grad_scale(a);
  const int gl = static_cast<int>(threadIdx.x & 31) & (g - 1);
  const int64_t rpw = 32 / g;  // rows per warp
  const int64_t warp = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int64_t nwarps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  double mine = 0.0;
  // The loop is uniform across the warp (the group reductions need all 32 lanes).
  for (int64_t base = warp * rpw; base < a.N; base += nwarps * rpw) {
    const int64_t r = base + (threadIdx.x & 31) / g;
    const bool valid = r < a.N;
    int64_t y = -1;
    const bool counts = valid && row_counts(a, r, y);
    const int64_t off = (counts ? r : 0) * a.C;
    T e[VPT];
    T m = T(-INFINITY);
#pragma unroll
    for (int k = 0; k < VPT; ++k) {
      const int j = gl + k * g;
      e[k] = counts && j < C ? a.logits[off + j] : T(-INFINITY);
      m = e[k] > m ? e[k] : m;  // skips NaN, like the CPU's running max
    }
    m = group_max(m, g);
    T s = T(0), sm = T(0), S = T(0);
#pragma unroll
    for (int k = 0; k < VPT; ++k) {
      const int j = gl + k * g;
      if (counts && j < C) {
        const T z = e[k];
        if (acc) {
          const T wj = a.weight ? a.weight[j] : T(1);
          const T wq = a.probs ? (one_m * a.probs[off + j] + eps_c) * wj : wj;
          S += wq;
          sm += wq * (m - z);
        }
        e[k] = fm::m_exp(z - m);
        s += e[k];
      }
    }
    s = group_sum(s, g);
    if (acc) {
      sm = group_sum(sm, g);
      S = group_sum(S, g);
    }
    RowTerms<T> t{T(0), T(0), T(0), T(0)};
    if (counts) t = row_terms(a, r, y, m, s, sm, S, W, scale);
    if (valid && a.dlogits) {
      T* gr = a.dlogits + r * a.C;
#pragma unroll
      for (int k = 0; k < VPT; ++k) {
        const int j = gl + k * g;
        if (j < C) gr[j] = counts ? grad_at(a, t, r, j, y, e[k], scale) : T(0);
      }
    }
    if (valid && gl == 0) {
      if (a.row_loss) a.row_loss[r] = t.loss;
      mine += static_cast<double>(t.loss);
    }
  }
  if (a.loss) finish_total(a, mine);
}

// (2), rows of C > 1024: a block per row (grid-stride), one online pass for m, s and the
// accumulated sums (Acc: probabilities or smoothing), then the gradient pass.
template <class T, class I, bool Acc>
__global__ void __launch_bounds__(kWideThreads, 1) xent_wide_kernel(XentArgs<T, I> a) {
  __shared__ OnlineStat<T> shared[32];
  const int64_t C = a.C, step = blockDim.x;
  const T one_m = T(1) - a.eps, eps_c = a.eps / static_cast<T>(C);
  const T W = a.labels ? static_cast<T>(a.st->w_total) : T(0);
  const T scale = grad_scale(a);
  double mine = 0.0;
  for (int64_t r = blockIdx.x; r < a.N; r += gridDim.x) {
    int64_t y;
    if (!row_counts(a, r, y)) {  // the same for the whole block
      if (a.dlogits)
        for (int64_t j = threadIdx.x; j < C; j += step) a.dlogits[r * C + j] = T(0);
      if (threadIdx.x == 0 && a.row_loss) a.row_loss[r] = T(0);
      continue;
    }
    const T* z = a.logits + r * C;
    const T* q = a.probs ? a.probs + r * C : nullptr;
    auto wx = [&](int64_t j) -> T {  // the weight of z_j in the accumulated sums
      if constexpr (!Acc) return T(0);
      const T wj = a.weight ? a.weight[j] : T(1);
      return q ? (one_m * q[j] + eps_c) * wj : wj;
    };
    OnlineStat<T> st = online_init<T>();
    int64_t j = threadIdx.x;
    for (; j + 3 * step < C; j += 4 * step) {  // four loads in flight per thread
      const T z0 = z[j], z1 = z[j + step], z2 = z[j + 2 * step], z3 = z[j + 3 * step];
      online_add<T, Acc>(st, z0, wx(j));
      online_add<T, Acc>(st, z1, wx(j + step));
      online_add<T, Acc>(st, z2, wx(j + 2 * step));
      online_add<T, Acc>(st, z3, wx(j + 3 * step));
    }
    for (; j < C; j += step) online_add<T, Acc>(st, z[j], wx(j));
    st = block_merge_final<T, Acc>(st, shared);
    const RowTerms<T> t = row_terms(a, r, y, st.m, st.s, st.a, st.w, W, scale);
    if (a.dlogits) {
      T* gr = a.dlogits + r * C;
      for (j = threadIdx.x; j < C; j += step)
        gr[j] = grad_at(a, t, r, j, y, fm::m_exp(z[j] - st.m), scale);
    }
    if (threadIdx.x == 0) {
      if (a.row_loss) a.row_loss[r] = t.loss;
      mine += static_cast<double>(t.loss);
    }
  }
  if (a.loss) finish_total(a, mine);
}

// (2), few rows of C >= 16384 ([note: split rows] in softmax.cu): grid (parts, N), a block per
// (chunk, row). Pass 1 stores each chunk's online statistics; pass 2 merges the row's in chunk
// order, writes the chunk's gradient, and the chunk-0 block counts the row loss.
template <class T, class I, bool Acc>
__global__ void __launch_bounds__(kSplitThreads, 1)
    xent_split_stats_kernel(XentArgs<T, I> a, OnlineStat<T>* part, int64_t chunk) {
  __shared__ OnlineStat<T> shared[32];
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk;
  const int64_t c1 = c0 + chunk < a.C ? c0 + chunk : a.C;
  int64_t y;
  if (!row_counts(a, r, y)) return;  // the whole block; pass 2 does not read this partial
  const T one_m = T(1) - a.eps, eps_c = a.eps / static_cast<T>(a.C);
  const T* z = a.logits + r * a.C;
  OnlineStat<T> st = online_init<T>();
  for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x) {
    T wx = T(0);
    if constexpr (Acc) {
      const T wj = a.weight ? a.weight[j] : T(1);
      wx = a.probs ? (one_m * a.probs[r * a.C + j] + eps_c) * wj : wj;
    }
    online_add<T, Acc>(st, z[j], wx);
  }
  st = block_merge<T, Acc>(st, shared);  // a chunk of -inf is not a NaN row: no finish_row
  if (threadIdx.x == 0) part[r * gridDim.x + blockIdx.x] = st;
}

template <class T, class I, bool Acc>
__global__ void __launch_bounds__(kSplitThreads, 1)
    xent_split_write_kernel(XentArgs<T, I> a, const OnlineStat<T>* part, int64_t chunk) {
  __shared__ OnlineStat<T> row;
  const int64_t r = blockIdx.y, c0 = blockIdx.x * chunk;
  const int64_t c1 = c0 + chunk < a.C ? c0 + chunk : a.C;
  double mine = 0.0;
  int64_t y;
  if (!row_counts(a, r, y)) {  // the whole block: no early return, finish_total needs every block
    if (a.dlogits)
      for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x) a.dlogits[r * a.C + j] = T(0);
    if (blockIdx.x == 0 && threadIdx.x == 0 && a.row_loss) a.row_loss[r] = T(0);
  } else {
    if (threadIdx.x == 0) {
      const OnlineStat<T>* pr = part + r * gridDim.x;
      OnlineStat<T> st = pr[0];
      for (unsigned p = 1; p < gridDim.x; ++p) st = online_merge<T, Acc>(st, pr[p]);
      row = finish_row(st);
    }
    __syncthreads();  // uniform: the branch is the same for the whole block
    const T W = a.labels ? static_cast<T>(a.st->w_total) : T(0);
    const T scale = grad_scale(a);
    const OnlineStat<T> st = row;
    const RowTerms<T> t = row_terms(a, r, y, st.m, st.s, st.a, st.w, W, scale);
    if (a.dlogits)
      for (int64_t j = c0 + threadIdx.x; j < c1; j += blockDim.x)
        a.dlogits[r * a.C + j] =
            grad_at(a, t, r, j, y, fm::m_exp(a.logits[r * a.C + j] - st.m), scale);
    if (blockIdx.x == 0 && threadIdx.x == 0) {
      if (a.row_loss) a.row_loss[r] = t.loss;
      mine = static_cast<double>(t.loss);
    }
  }
  if (a.loss) finish_total(a, mine);
}

template <class F>
void with_vpt(int vpt, F&& f) {
  switch (vpt) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 4:
      return f(std::integral_constant<int, 4>{});
    case 8:
      return f(std::integral_constant<int, 8>{});
    case 16:
      return f(std::integral_constant<int, 16>{});
    default:
      return f(std::integral_constant<int, 32>{});
  }
}

template <class T, class I>
void xent_typed(T* loss, T* dlogits, const T* logits, const I* labels, const T* probs,
                const T* weight, int64_t N, int64_t C, Reduction red, double eps,
                int64_t ignore_index) {
  // A bad label of an earlier call is raised before this call launches anything.
  check_deferred_target_error();
  TargetErrorRecord* rec = labels ? target_error_record() : nullptr;
  const bool reduced = red != Reduction::none;
  const bool narrow = C <= 1024;
  const int64_t parts = narrow ? 0 : split_row_parts(N, C);
  const RowPlan plan = plan_narrow_rows(narrow ? C : 1);
  const int threads = narrow ? kNarrowThreads : (C >= 8192 ? kWideThreads : 256);
  const int64_t rows_per_block = narrow ? (kNarrowThreads / 32) * (32 / plan.group) : 1;
  int64_t blocks = ceil_div(N > 0 ? N : 1, rows_per_block);
  if (blocks > kMaxRowBlocks) blocks = kMaxRowBlocks;
  if (parts) blocks = parts * N;  // grid (parts, N), N < 2 x SMs
  int64_t label_blocks = labels ? ceil_div(N, kLabelThreads * 4) : 0;
  if (labels && label_blocks < 1) label_blocks = 1;
  if (label_blocks > kMaxLabelBlocks) label_blocks = kMaxLabelBlocks;

  // One scratch block: the stats, then the partials of (1), then those of (2).
  const int64_t n_partials = label_blocks + (reduced ? blocks : 0);
  Workspace ws(static_cast<int64_t>(sizeof(XentStats)) + n_partials * 8);
  Workspace split_ws(parts * N * static_cast<int64_t>(sizeof(OnlineStat<T>)));
  XentStats* st = ws.as<XentStats>();
  double* label_partial = reinterpret_cast<double*>(st + 1);
  FASTNN_CUDA_CHECK(cudaMemsetAsync(st, 0, sizeof(XentStats), current_stream()));
  if (labels) {
    xent_labels_kernel<T, I>
        <<<static_cast<unsigned>(label_blocks), kLabelThreads, 0, current_stream()>>>(
            st, label_partial, rec, labels, weight, N, C, ignore_index);
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  if (N > 0 || reduced) {  // N = 0 still writes the reduced loss (0, or NaN for 'mean')
    XentArgs<T, I> a{reduced ? nullptr : loss,
                     reduced ? loss : nullptr,
                     label_partial + label_blocks,
                     st,
                     dlogits,
                     logits,
                     labels,
                     probs,
                     weight,
                     N,
                     C,
                     ignore_index,
                     static_cast<T>(eps),
                     red == Reduction::mean};
    const unsigned grid = static_cast<unsigned>(blocks);
    if (parts) {
      const int64_t chunk = ceil_div(C, parts);
      const dim3 grid2(static_cast<unsigned>(parts), static_cast<unsigned>(N));
      auto* stats = split_ws.as<OnlineStat<T>>();
      if (probs != nullptr || eps != 0.0) {
        xent_split_stats_kernel<T, I, true>
            <<<grid2, kSplitThreads, 0, current_stream()>>>(a, stats, chunk);
        FASTNN_CUDA_CHECK_LAUNCH();
        xent_split_write_kernel<T, I, true>
            <<<grid2, kSplitThreads, 0, current_stream()>>>(a, stats, chunk);
      } else {
        xent_split_stats_kernel<T, I, false>
            <<<grid2, kSplitThreads, 0, current_stream()>>>(a, stats, chunk);
        FASTNN_CUDA_CHECK_LAUNCH();
        xent_split_write_kernel<T, I, false>
            <<<grid2, kSplitThreads, 0, current_stream()>>>(a, stats, chunk);
      }
    } else if (narrow) {
      with_vpt(plan.vpt, [&](auto vpt) {
        xent_narrow_kernel<T, I, decltype(vpt)::value>
            <<<grid, threads, 0, current_stream()>>>(a, plan.group);
      });
    } else if (probs != nullptr || eps != 0.0) {
      xent_wide_kernel<T, I, true><<<grid, threads, 0, current_stream()>>>(a);
    } else {
      xent_wide_kernel<T, I, false><<<grid, threads, 0, current_stream()>>>(a);
    }
    FASTNN_CUDA_CHECK_LAUNCH();
  }
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  if (labels && rec == nullptr)
    FASTNN_CUDA_CHECK(cudaStreamIsCapturing(current_stream(), &capture));
  // No mapped host memory: the old synchronous check (impossible inside a graph capture).
  if (labels && rec == nullptr && capture == cudaStreamCaptureStatusNone) {
    XentStats host;
    FASTNN_CUDA_CHECK(
        cudaMemcpyAsync(&host, st, sizeof host, cudaMemcpyDeviceToHost, current_stream()));
    FASTNN_CUDA_CHECK(cudaStreamSynchronize(current_stream()));
    if (host.bad_key != 0)
      throw target_index_error("Target is out of bounds: " +
                               target_error_message(N - static_cast<int64_t>(host.bad_key),
                                                    host.bad_label, C, ignore_index));
  }
}

}  // namespace

void softmax_cross_entropy_forward_cuda(DType dt, void* loss, void* dlogits, const void* logits,
                                        const void* labels, DType label_dt, const void* probs,
                                        const void* weight, int64_t N, int64_t C,
                                        Reduction reduction, double label_smoothing,
                                        int64_t ignore_index) {
  // An empty batch has no storage behind either target (both null): nothing is read then.
  FASTNN_CHECK(N == 0 || (labels == nullptr) != (probs == nullptr),
               "softmax_cross_entropy: exactly one of labels and probabilities must be given");
  FASTNN_CHECK(C >= 1, "softmax_cross_entropy: need at least one class");
  dispatch_float(dt, "softmax_cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    auto* l = static_cast<T*>(loss);
    auto* g = static_cast<T*>(dlogits);
    auto* z = static_cast<const T*>(logits);
    auto* p = static_cast<const T*>(probs);
    auto* w = static_cast<const T*>(weight);
    if (labels == nullptr || label_dt == DType::i64)
      xent_typed<T, int64_t>(l, g, z, static_cast<const int64_t*>(labels), p, w, N, C, reduction,
                             label_smoothing, ignore_index);
    else if (label_dt == DType::i32)
      xent_typed<T, int32_t>(l, g, z, static_cast<const int32_t*>(labels), p, w, N, C, reduction,
                             label_smoothing, ignore_index);
    else
      FASTNN_CHECK(false, "softmax_cross_entropy: labels must be int64 or int32, got ",
                   dtype_name(label_dt));
  });
}

}  // namespace fastnn::cuda
