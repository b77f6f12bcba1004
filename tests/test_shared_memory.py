"""Tensor.share_memory_ / is_shared and Module.share_memory: the storage is mapped by the
processes fastnn.multiprocessing starts (fork and spawn), so writes cross process boundaries."""

import copy
import os
import pickle

import numpy as np
import pytest

import fastnn
from fastnn import multiprocessing as mp
from fastnn import nn


def _write_rank(rank, t):
    t[rank] = 10.0 + rank


def _sgd_steps(rank, model, done):
    opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(fastnn.ones(1, 2)).sum().backward()
        opt.step()
    done[rank] = 1


def _send_back(queue, t):
    t.add_(1.0)
    queue.put(t)


def test_plain_tensors_are_not_shared():
    t = fastnn.ones(3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared() and t.tolist() == [1.0, 1.0, 1.0]
    before = t._data
    t.share_memory_()  # already shared: nothing moves
    assert t._data is before


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_children_write_into_the_parents_tensor(method):
    t = fastnn.zeros(3).share_memory_()
    mp.spawn(_write_rank, args=(t,), nprocs=3, start_method=method)
    assert t.tolist() == [10.0, 11.0, 12.0]


def test_unshared_tensor_is_copied_into_a_spawned_child():
    t = fastnn.zeros(2)
    mp.spawn(_write_rank, args=(t,), nprocs=2, start_method="spawn")
    assert t.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_module_share_memory_hogwild_updates_reach_the_parent(method):
    fastnn.manual_seed(0)
    model = nn.Linear(2, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    w0 = model.weight.detach().clone()
    done = fastnn.zeros(2, dtype=fastnn.int64).share_memory_()
    mp.spawn(_sgd_steps, args=(model, done), nprocs=2, start_method=method)
    assert done.tolist() == [1, 1]
    # each process took 3 steps of lr 0.1 on d(sum)/dw = 1: 6 steps in all
    np.testing.assert_allclose((w0 - model.weight).detach().numpy(), 0.6, rtol=1e-5)
    assert isinstance(model.weight, nn.Parameter) and model.weight.requires_grad


def test_queue_round_trip_keeps_sharing():
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    t = fastnn.zeros(4).share_memory_()
    p = ctx.Process(target=_send_back, args=(q, t))
    p.start()
    back = q.get(timeout=60)
    p.join()
    assert back.is_shared() and back.tolist() == [1.0] * 4 and t.tolist() == [1.0] * 4
    back[0] = 5.0
    assert t[0].item() == 5.0


def test_ordinary_pickle_and_deepcopy_copy_values():
    t = fastnn.ones(2).share_memory_()
    for c in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        c.add_(1.0)
        assert t.tolist() == [1.0, 1.0] and c.tolist() == [2.0, 2.0]


def test_the_shared_file_is_removed_when_the_tensor_dies():
    t = fastnn.ones(2).share_memory_()
    from fastnn._tensor.shared import _map_of

    path = _map_of(t._data).path
    assert os.path.exists(path)
    del t
    assert not os.path.exists(path)


def test_non_leaf_tensor_cannot_cross_processes():
    from multiprocessing.reduction import ForkingPickler

    w = fastnn.ones(2, requires_grad=True)
    y = (w * 2).share_memory_()
    with pytest.raises(RuntimeError, match="detach"):
        ForkingPickler.dumps(y)
