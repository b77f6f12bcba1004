"""DataLoader workers: a pool of threads or processes that load batches ahead, in order.

Batch ``b`` of an epoch goes to worker ``b % n``, so which worker (and which worker's random
stream) loads a batch does not depend on timing. At most ``prefetch_factor`` batches per worker
are handed out ahead of the batch the training loop waits for; results come back on one channel
and are put back in order. Tasks carry an epoch number: a persistent pool skips the leftovers of
an abandoned epoch.

Shutting down never blocks for long. A worker thread stuck in the dataset cannot be stopped from
outside, so threads are daemons: after ``JOIN_TIMEOUT`` seconds the pool stops waiting and
abandons them (each exits once its current batch returns). Worker processes that do not exit in
time are terminated, then killed.
"""

import contextlib
import multiprocessing.connection as mp_connection
import os
import pickle
import queue
import signal
import threading
import time
import traceback

from . import worker_info as _info

JOIN_TIMEOUT = 1.0
_POLL = 0.1  # how often a waiting loader checks that the worker it waits on is alive


class WorkerError:
    """An exception raised in a worker, as text: it crosses a process boundary, where neither
    the exception object nor its traceback may be picklable."""

    def __init__(self, exc: BaseException, kind: str, worker: int, batch: int, stage: str):
        self.exc_type = type(exc)
        self.type_name = self.exc_type.__name__
        self.text = "".join(traceback.format_exception(exc))
        self.where = f"in DataLoader worker {kind} {worker} while {stage} batch {batch}"

    def reraise(self):
        msg = (
            f"Caught {self.type_name} {self.where}.\n"
            f"Original traceback (most recent call last) and exception:\n{self.text}"
        )
        exc_type = self.exc_type
        if issubclass(exc_type, KeyError):  # KeyError's str() is the repr of its argument
            msg = _VerbatimMessage(msg)
        try:
            if issubclass(exc_type, StopIteration):  # would end the epoch silently
                raise TypeError
            exc = exc_type(msg)
        except Exception:  # noqa: BLE001 (a type that cannot be built from one message)
            exc = RuntimeError(msg)
        raise exc from None


class _VerbatimMessage(str):
    def __repr__(self):
        return str(self)


def _worker_loop(info, init_fn, fetch, get_task, put_result, current_epoch, kind):
    """One worker's life: init_fn once, then (epoch, batch, indices) tasks until None."""
    init_error = None
    if init_fn is not None:
        try:
            init_fn(info.id)
        except BaseException as e:  # noqa: BLE001 (reported with every batch this worker owns)
            init_error = e
    while True:
        task = get_task()
        if task is None:
            return
        epoch, b, idx = task
        if epoch != current_epoch():
            continue  # left over from an abandoned epoch
        if init_error is not None:
            result = WorkerError(init_error, kind, info.id, b, "running worker_init_fn before")
        else:
            try:
                result = fetch(idx)
            except BaseException as e:  # noqa: BLE001 (re-raised in the training loop)
                result = WorkerError(e, kind, info.id, b, "loading")
        put_result((epoch, b, result))


# ---- threads ----


def _thread_main(info, init_fn, fetch, tasks, results, epoch_box):
    _info.enter_thread(info)
    try:
        _worker_loop(info, init_fn, fetch, tasks.get, results.put, lambda: epoch_box[0], "thread")
    finally:
        _info.leave_thread()


class ThreadPool:
    """Worker threads sharing the dataset: no copies, no pickling; real parallelism wherever
    the dataset releases the GIL (numpy gathers and copies, fastnn kernels, file reads)."""

    kind = "thread"

    def __init__(self, fetch, dataset, n, base_seed, init_fn, name="fastnn-DataLoader-worker"):
        self.n = n
        self._threads = []
        self._epoch = [0]
        self._tasks = [queue.SimpleQueue() for _ in range(n)]
        self._results = queue.SimpleQueue()
        for w in range(n):
            info = _info.WorkerInfo(id=w, num_workers=n, seed=base_seed + w, dataset=dataset)
            t = threading.Thread(
                target=_thread_main,
                args=(info, init_fn, fetch, self._tasks[w], self._results, self._epoch),
                name=f"{name}-{w}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)

    def set_epoch(self, epoch):
        self._epoch[0] = epoch

    def epoch(self):
        return self._epoch[0]

    def send(self, w, task):
        self._tasks[w].put(task)

    def recv(self, timeout):
        return self._results.get(timeout=timeout)  # queue.Empty when nothing came

    def alive(self, w):
        return self._threads[w].is_alive()

    def usable(self):
        """Not shut down and every worker still running (a persistent pool is reused then)."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def describe(self, w):
        return f"thread {w}"

    def shutdown(self):
        if not self._threads:
            return
        for q in self._tasks:
            q.put(None)
        deadline = time.monotonic() + JOIN_TIMEOUT
        me = threading.current_thread()  # the garbage collector may run this in a worker
        for t in self._threads:
            if t is not me:
                t.join(max(0.0, deadline - time.monotonic()))
        self._threads = []  # any still running are abandoned (daemons, see the module doc)

    def __del__(self):
        self.shutdown()


# ---- processes ----


def _process_main(info, base_seed, init_fn, fetch, task_conn, result_conn, result_lock, epoch):
    # Ctrl-C reaches the whole process group; the main process alone decides what to do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _info.enter_process(info, base_seed)
    parent = os.getppid()

    def get_task():
        while not task_conn.poll(1.0):
            if os.getppid() != parent:  # orphaned: the main process died without telling us
                return None
        try:
            return task_conn.recv()
        except EOFError:
            return None

    def put_result(item):
        try:
            payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 (an unpicklable batch or exception type)
            epoch_, b, result = item
            if isinstance(result, WorkerError):  # keep its text; only the type cannot travel
                err = result
            else:
                err = WorkerError(e, "process", info.id, b, "sending")
            err.exc_type = RuntimeError
            payload = pickle.dumps((epoch_, b, err), protocol=pickle.HIGHEST_PROTOCOL)
        with result_lock:
            result_conn.send_bytes(payload)

    _worker_loop(info, init_fn, fetch, get_task, put_result, lambda: epoch.value, "process")


class ProcessPool:
    """Worker processes, each with its own copy of the dataset (and its own GIL): real
    parallelism for datasets whose ``__getitem__`` runs Python code. Batches are pickled back."""

    kind = "process"

    def __init__(self, fetch, dataset, n, base_seed, init_fn, ctx):
        self.n = n
        self._procs, self._task_conns = [], []
        self._epoch = ctx.RawValue("q", 0)
        self._reader, writer = ctx.Pipe(duplex=False)
        # Kept for the pool's life: a spawned child opens the lock by name after start() returns.
        self._lock = lock = ctx.Lock()
        try:
            for w in range(n):
                info = _info.WorkerInfo(id=w, num_workers=n, seed=base_seed + w, dataset=dataset)
                task_r, task_w = ctx.Pipe(duplex=False)
                p = ctx.Process(
                    target=_process_main,
                    args=(info, base_seed, init_fn, fetch, task_r, writer, lock, self._epoch),
                    name=f"fastnn-DataLoader-worker-{w}",
                    daemon=True,
                )
                p.start()
                task_r.close()  # the child has its copy
                self._task_conns.append(task_w)
                self._procs.append(p)
        except BaseException as e:
            self.shutdown()
            if isinstance(e, (pickle.PicklingError, AttributeError, TypeError)):
                e.add_note(
                    f"(DataLoader: starting worker processes with the {ctx.get_start_method()!r} "
                    "method pickles the dataset, collate_fn and worker_init_fn)"
                )
            raise
        finally:
            writer.close()

    def set_epoch(self, epoch):
        self._epoch.value = epoch

    def epoch(self):
        return self._epoch.value

    def send(self, w, task):
        self._task_conns[w].send(task)

    def recv(self, timeout):
        try:
            ready = self._reader.poll(timeout)
        except OSError:
            ready = False
        if not ready:
            raise queue.Empty
        try:
            return pickle.loads(self._reader.recv_bytes())
        except EOFError:  # every worker has gone
            time.sleep(timeout)
            raise queue.Empty from None

    def alive(self, w):
        return self._procs[w].exitcode is None

    def usable(self):
        """Not shut down and every worker still running (a persistent pool is reused then)."""
        return bool(self._procs) and all(p.exitcode is None for p in self._procs)

    def describe(self, w):
        p = self._procs[w]
        code = p.exitcode
        how = f"exit code {code}" if code is None or code >= 0 else f"signal {-code}"
        return f"process {w} (pid {p.pid}, {how})"

    def shutdown(self):
        if not self._procs:
            return
        for c in self._task_conns:
            with contextlib.suppress(OSError):  # that worker may be gone already
                c.send(None)
        deadline = time.monotonic() + JOIN_TIMEOUT
        # Workers blocked on sending a batch need the channel drained before they can exit;
        # waiting on their sentinels too wakes this loop the moment the last one is gone.
        reader = self._reader
        while True:
            running = [p.sentinel for p in self._procs if p.exitcode is None]
            left = deadline - time.monotonic()
            if not running or left <= 0:
                break
            ready = mp_connection.wait([*running, reader] if reader else running, left)
            if reader in ready:
                try:
                    reader.recv_bytes()
                except (EOFError, OSError):
                    reader = None  # every writer is closed: only the sentinels are left
        for p in self._procs:
            if p.exitcode is None:
                p.terminate()
        for p in self._procs:
            p.join(JOIN_TIMEOUT)
            if p.exitcode is None:
                p.kill()
                p.join()
            p.close()
        for c in self._task_conns:
            c.close()
        self._reader.close()
        self._procs, self._task_conns = [], []

    def __del__(self):
        self.shutdown()


class LoaderIter:
    """One epoch over ``batches`` (index arrays) from ``pool``; closes the pool when it is done
    with it (``owns_pool``) or leaves it for the next epoch (persistent workers). A timeout, a
    dead worker or Ctrl-C closes even a persistent pool: its workers may be stuck or gone, so
    the next epoch starts fresh ones."""

    def __init__(self, pool, batches, epoch, prefetch_factor, timeout, owns_pool, length):
        # ``batches``: a list, or an iterator read only as far as the prefetching needs;
        # ``length``: the loader's len() (None when its sampler has none); the iterator holds
        # no reference to the loader, whose collection ends persistent workers
        self._pool, self._epoch, self._length = pool, epoch, length
        self._batches = iter(batches)
        self._timeout, self._owns = timeout, owns_pool
        self._next = self._sent = 0
        self._ready = {}
        pool.set_epoch(epoch)
        try:
            for _ in range(prefetch_factor * pool.n):
                if not self._dispatch():
                    break
        except BaseException:
            self.close(broken=True)
            raise

    def _dispatch(self):
        """Send the next batch to its worker; False when the epoch has no more."""
        if self._batches is None:
            return False
        idx = next(self._batches, None)
        if idx is None:
            self._batches = None
            return False
        b = self._sent
        self._pool.send(b % self._pool.n, (self._epoch, b, idx))
        self._sent += 1
        return True

    def __iter__(self):
        return self

    def __len__(self):
        if self._length is None:
            raise TypeError("this DataLoader's sampler has no len()")
        return self._length

    def __next__(self):
        if self._pool is None or self._next >= self._sent:
            self.close()
            raise StopIteration
        self._check_current()
        b = self._next
        try:
            result = self._wait(b)
            self._next += 1
            self._dispatch()
        except BaseException:  # a timeout, a dead worker, Ctrl-C: never leave workers behind
            self.close(broken=True)
            raise
        if isinstance(result, WorkerError):
            self.close()
            result.reraise()
        return result

    def _check_current(self):
        if self._pool.epoch() != self._epoch:
            self._pool = None  # the pool is the newer iterator's now
            raise RuntimeError(
                "DataLoader: this iterator was replaced by a newer iter(loader) on the same "
                "persistent workers"
            )

    def _wait(self, b):
        pool, w = self._pool, b % self._pool.n
        start = time.monotonic()
        while b not in self._ready:
            wait = _POLL
            if self._timeout > 0:
                left = start + self._timeout - time.monotonic()
                if left <= 0:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds waiting for batch "
                        f"{b} (loaded by worker {pool.describe(w)})"
                    )
                wait = min(wait, left)
            try:
                epoch, rb, result = pool.recv(wait)
            except queue.Empty:
                if not pool.alive(w):
                    raise RuntimeError(
                        f"DataLoader worker {pool.describe(w)} exited unexpectedly before "
                        f"sending batch {b}"
                    ) from None
                continue
            if epoch == self._epoch:
                self._ready[rb] = result
        return self._ready.pop(b)

    def close(self, broken=False):
        pool, self._pool = self._pool, None
        self._ready.clear()
        if pool is not None and (self._owns or broken):
            pool.shutdown()

    def __del__(self):
        self.close()
