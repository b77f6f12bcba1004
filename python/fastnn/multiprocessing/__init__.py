"""``fastnn.multiprocessing``: Python's multiprocessing under torch's module name, plus
``spawn`` for starting one worker process per rank.

Tensors cross process boundaries by pickling (a copy), except those moved into shared memory
with ``Tensor.share_memory_`` / ``Module.share_memory``: forked processes inherit their mapping
and pickling for other processes sends the mapping's name, so every process writes the same
memory (Hogwild-style training on one model; see ``fastnn._tensor.shared``).
"""

from multiprocessing import (
    Array,
    Barrier,
    Condition,
    Event,
    JoinableQueue,
    Lock,
    Manager,
    Pipe,
    Pool,
    Process,
    Queue,
    RLock,
    Semaphore,
    SimpleQueue,
    Value,
    active_children,
    cpu_count,
    current_process,
    get_all_start_methods,
    get_context,
    get_start_method,
    set_start_method,
)

from ._spawn import (
    ProcessContext,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = [
    "Array",
    "Barrier",
    "Condition",
    "Event",
    "JoinableQueue",
    "Lock",
    "Manager",
    "Pipe",
    "Pool",
    "Process",
    "ProcessContext",
    "ProcessExitedException",
    "ProcessRaisedException",
    "Queue",
    "RLock",
    "Semaphore",
    "SimpleQueue",
    "Value",
    "active_children",
    "cpu_count",
    "current_process",
    "get_all_start_methods",
    "get_context",
    "get_start_method",
    "set_start_method",
    "spawn",
    "start_processes",
]
