// A small persistent thread pool for the CPU kernels.
//
// Why not OpenMP: torch ships its own libgomp and numpy's OpenBLAS its own pthreads; a third
// OpenMP runtime in the same process is where crashes and oversubscription come from. A pool of
// std::threads that we own has neither problem and costs a few microseconds to wake.
//
// Safe to call from several Python threads at once (kernels run with the GIL released): one
// parallel region owns the pool at a time; a caller that finds it busy runs its work serially on
// its own thread, and a nested call from inside a region also runs serially.
#pragma once
#include <cstdint>
#include <functional>

namespace fastnn {

int get_num_threads();
void set_num_threads(int n);  // n >= 1; throws std::invalid_argument otherwise
int default_num_threads();    // FASTNN_NUM_THREADS, else the cores this process may run on

// Calls fn(tid, nt) once for each tid in [0, nt), nt <= min(max_threads, get_num_threads()),
// the caller being tid 0. Returns when all calls have returned; rethrows the first exception.
void parallel_run(int max_threads, const std::function<void(int tid, int nt)>& fn);

// Splits [0, n) into at most get_num_threads() contiguous chunks of at least `grain` items and
// calls fn(begin, end) on each, in parallel. Serial when n <= grain.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Calls fn(begin, end) on the chunks [k * chunk, (k + 1) * chunk) of [0, n) (the last one
// shorter), each claimed by whichever thread is free next, one at a time. For compute-bound work
// in a few dozen pieces: where parallel_for hands each thread one share, the caller of a
// Winograd pass often waited a fifth of the region for a worker that started late or ran on a
// busier core (a shared VM). Which thread runs a chunk changes nothing: the chunks are fixed by
// n and chunk alone.
void parallel_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn);

// The sum over chunks of fn(begin, end), [0, n) split as by parallel_for; the per-chunk sums are
// added in chunk order, in double (the losses use it to reduce per-row values).
double parallel_sum(int64_t n, int64_t grain, const std::function<double(int64_t, int64_t)>& fn);

}  // namespace fastnn
