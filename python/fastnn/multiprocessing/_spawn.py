"""``spawn`` / ``start_processes``: run ``fn(i, *args)`` in ``nprocs`` processes and report the
first failure in the parent, with the child's traceback."""

import multiprocessing
import multiprocessing.connection
import signal
import sys
import traceback


class ProcessException(Exception):
    """A spawned process failed; ``error_index`` is its rank, ``pid`` its process id."""

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """The process raised; the message carries its traceback."""


class ProcessExitedException(ProcessException):
    """The process exited with a non-zero code or was killed by a signal."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        args = (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)
        return type(self), args


def _run(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting the group down
    except Exception:  # noqa: BLE001 (whatever fn raised goes to the parent)
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The running group: ``join`` waits for it and raises on the first failure."""

    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait up to ``timeout`` seconds for a process to end. True once all have ended
        cleanly, False while some still run; a failure terminates the rest and raises."""
        running = {p.sentinel: p for p in self.processes if p.exitcode is None}
        if running:
            ready = multiprocessing.connection.wait(list(running), timeout=timeout)
            for sentinel in ready:  # its pipe closed: the process is exiting, reap it
                running[sentinel].join()
        for i, p in enumerate(self.processes):
            if p.exitcode not in (None, 0):
                self._fail(i, p)
        return all(p.exitcode == 0 for p in self.processes)

    def _fail(self, i, failed):
        for p in self.processes:
            if p.exitcode is None:
                p.terminate()
            p.join()
        queue = self.error_queues[i]
        if not queue.empty():
            msg = f"\n\n-- Process {i} terminated with the following error:\n{queue.get()}"
            raise ProcessRaisedException(msg, i, failed.pid)
        code = failed.exitcode
        if code < 0:
            name = signal.Signals(-code).name
            msg = f"process {i} terminated with signal {name}"
            raise ProcessExitedException(msg, i, failed.pid, code, name)
        msg = f"process {i} terminated with exit code {code}"
        raise ProcessExitedException(msg, i, failed.pid, code)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``fn(i, *args)`` for i in range(nprocs) with the given start method. With
    ``join`` wait for all of them (re-raising a failure); else return the ProcessContext."""
    ctx = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_run, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the 'spawn' start method by default (fresh interpreters)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
