"""More condensed programs of the kind PyTorch's tutorials and recipes teach, each written
against a library ``lib`` so that the same code runs on fastnn and on torch. Each one pins a
place where fastnn used to diverge from torch."""

import importlib

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _mod(lib, name):
    return importlib.import_module(f"{lib.__name__}.{name}")


def _run_both(program, *args):
    return program(fastnn, *args), program(torch, *args)


# ---- torch.func: a vmapped vjp gives the rows that autograd.grad gives, to the bit ----------


def _jacobian_two_ways(lib):
    F = _mod(lib, "nn.functional")
    func = _mod(lib, "func")
    g = np.random.default_rng(0)
    w = lib.tensor(g.standard_normal((12, 12)), dtype=lib.float32)
    b = lib.tensor(g.standard_normal(12), dtype=lib.float32)
    x = lib.tensor(g.standard_normal(12), dtype=lib.float32)
    eye = lib.eye(12)

    def f(v):
        return F.linear(v, w, b).tanh()

    _, pullback = func.vjp(f, x)
    (by_vmap,) = func.vmap(pullback)(eye)
    xr = x.clone().requires_grad_()
    by_rows = lib.stack([lib.autograd.grad(f(xr), xr, e)[0] for e in eye])
    by_jacrev = func.jacrev(f)(x)
    grad_sum = func.grad(lambda v: f(v).sum())(x)
    return by_vmap.numpy(), by_rows.numpy(), by_jacrev.numpy(), grad_sum.numpy()


def test_func_transforms_give_plain_backward_bits():
    ours, theirs = _run_both(_jacobian_two_ways)
    # a transform with nothing outside it to differentiate runs the plain backward kernels
    np.testing.assert_array_equal(ours[0], ours[1])
    np.testing.assert_array_equal(ours[2], ours[1])
    np.testing.assert_allclose(ours[3], ours[1].sum(0), rtol=1e-5, atol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_func_nested_transforms_still_differentiate():
    func = fastnn.func
    x = fastnn.tensor([0.3, -1.2, 0.7])

    def f(v):
        return (v.sin() * v).sum()

    h = func.hessian(f)(x)
    th = torch.func.hessian(lambda v: (v.sin() * v).sum())(torch.tensor(x.numpy()))
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-5, atol=1e-6)
    # a closure over a tensor that requires grad keeps the result differentiable
    s = fastnn.tensor(2.0, requires_grad=True)
    g = func.grad(lambda v: (v * v * s).sum())(x)
    g.sum().backward()
    np.testing.assert_allclose(s.grad.item(), 2 * x.sum().item(), rtol=1e-6)


# ---- torch.utils.benchmark.Timer -------------------------------------------------------------


def _timed(lib):
    bench = _mod(lib, "utils.benchmark")
    t = bench.Timer("x * y", "x = torch.ones(8)\ny = torch.ones(1)", label="mul", sub_label="8x1")
    m = t.timeit(20)
    blocked = bench.Timer(stmt="f(v)", globals={"f": abs, "v": -1.0}).blocked_autorange(
        min_run_time=0.01
    )
    return m, blocked


def test_benchmark_timer_matches_torch():
    (m, blocked), (tm, tblocked) = _run_both(_timed)
    for ours in (m, blocked, tm, tblocked):
        assert type(ours.times) is list and len(ours.times) == len(ours.raw_times)
        assert ours.number_per_run * ours.times[0] == pytest.approx(ours.raw_times[0])
        assert ours.median > 0 and ours.iqr >= 0 and ours.mean > 0
    assert m.number_per_run == tm.number_per_run == 20
    assert m.title == tm.title == "mul: 8x1"
    assert m.label == "mul" and m.num_threads == tm.num_threads == 1
    # the printed summary: every line but the object's address and the time itself agree
    ours, theirs = repr(m).splitlines()[1:], repr(tm).splitlines()[1:]
    assert len(ours) == len(theirs)
    assert ours[:-2] == theirs[:-2] and ours[-1] == theirs[-1]
    assert ours[-2].split()[-1] in ("ns", "us", "ms", "s")
    assert blocked.number_per_run >= 1 and len(blocked.times) >= 1
    with pytest.raises(NotImplementedError):
        fastnn.utils.benchmark.Timer("pass").autorange()
    with pytest.raises(ValueError, match="global_setup"):
        fastnn.utils.benchmark.Timer("pass", global_setup="int x;")
    for ours, theirs in ((1.5e-7, 1.5e-7), (2e-3, 2e-3), (4.0, 4.0)):
        assert fastnn.utils.benchmark.select_unit(ours) == torch.utils.benchmark.select_unit(theirs)


# ---- forward mode through a custom Function that only gives jvp --------------------------------


def _scaled_exp_jvp(lib):
    fwad = _mod(lib, "autograd.forward_ad")

    class ScaledExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            y = lib.exp(x) * k
            ctx.y = y
            return y

        @staticmethod
        def jvp(ctx, tx, tk):
            return tx * ctx.y

    g = np.random.default_rng(1)
    x = lib.tensor(g.standard_normal((3, 4)), dtype=lib.float64, requires_grad=True)
    t = lib.tensor(g.standard_normal((3, 4)), dtype=lib.float64)
    with fwad.dual_level():
        out = ScaledExp.apply(fwad.make_dual(x, t), 2.0)
        after = (out * 3).sin()
        tangents = fwad.unpack_dual(out).tangent, fwad.unpack_dual(after).tangent
    ok = lib.autograd.gradcheck(
        lambda v: ScaledExp.apply(v, 2.0),
        (x,),
        check_forward_ad=True,
        check_backward_ad=False,
        check_undefined_grad=False,
        check_batched_grad=False,
    )
    return [tan.detach().numpy() for tan in tangents], ok


def test_custom_function_jvp_in_forward_mode_matches_torch():
    (ours, ok), (theirs, tok) = _run_both(_scaled_exp_jvp)
    assert ok is True and tok is True
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_gradcheck_forward_mode_catches_a_wrong_jvp():
    class Wrong(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def jvp(ctx, tx):
            return tx  # the derivative is 2x, not 1

    x = fastnn.tensor([0.5, 1.5], dtype=fastnn.float64, requires_grad=True)
    assert not fastnn.autograd.gradcheck(
        Wrong.apply, (x,), check_forward_ad=True, check_backward_ad=False, raise_exception=False
    )
    with pytest.raises(RuntimeError, match="forward-mode"):
        fastnn.autograd.gradcheck(Wrong.apply, (x,), check_forward_ad=True, check_backward_ad=False)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fastnn.autograd.gradcheck(Wrong.apply, (x,), check_sideways=True)


# ---- the deprecated size_average / reduce pair on losses -------------------------------------


def _legacy_losses(lib):
    F = _mod(lib, "nn.functional")
    nn = _mod(lib, "nn")
    g = np.random.default_rng(2)
    logp = F.log_softmax(lib.tensor(g.standard_normal((5, 4)), dtype=lib.float32), dim=1)
    target = lib.tensor([0, 3, 1, 1, 2])
    x = lib.tensor(g.standard_normal((5, 4)), dtype=lib.float32)
    y = lib.tensor(g.standard_normal((5, 4)), dtype=lib.float32)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        summed = F.nll_loss(logp, target, size_average=False)
    with pytest.warns(UserWarning, match="reduction='none'"):
        each = F.mse_loss(x, y, reduce=False)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        module_sum = nn.MSELoss(size_average=False)(x, y)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        ce = nn.CrossEntropyLoss(None, False)(x, target)  # weight, size_average by position
    with pytest.warns(UserWarning, match="reduction='mean'"):
        l1 = F.l1_loss(x, y, size_average=True, reduce=True)
    return [t.detach().numpy() for t in (summed, each, module_sum, ce, l1)]


def test_legacy_size_average_and_reduce_match_torch():
    ours, theirs = _run_both(_legacy_losses)
    assert [a.shape for a in ours] == [b.shape for b in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# ---- what programs print: named results and the tensor's class -------------------------------


def _printed(lib):
    import pickle

    x = lib.tensor([[1.0, 5.0, 2.0], [3.0, 0.5, 4.0]])
    res = (lib.max(x, 1), x.sort(dim=1), lib.topk(x, 2), lib.linalg.qr(lib.eye(2)))
    back = pickle.loads(pickle.dumps(res[0]))
    return [repr(r).replace(lib.__name__, "lib") for r in res], back, str(type(x))


def test_named_results_and_tensor_class_print_as_torch():
    (ours, back, cls), (theirs, _, tcls) = _run_both(_printed)
    assert ours == theirs
    assert isinstance(back, fastnn.return_types.max) and back.indices.tolist() == [1, 2]
    assert cls.replace("fastnn", "torch") == tcls == "<class 'torch.Tensor'>"


# ---- walking the graph of a scalar-first expression; linspace's values ------------------------


def _walk(lib):
    a = lib.linspace(0.0, 6.283185307179586, steps=25, requires_grad=True)
    d = 2 * lib.sin(a) + 1
    names = []
    node = d.grad_fn
    while node is not None and node.next_functions:
        names.append((node.name(), [f is None for f, _ in node.next_functions]))
        node = node.next_functions[0][0]
    names.append(node.name())
    e = 3.0 + a * 2.0
    names.append([f is None for f, _ in e.grad_fn.next_functions])
    # a Parameter on the right is reached through its reflected method: the order stays
    p = _mod(lib, "nn").Parameter(lib.ones(25))
    for r in (e + p, e * p, 2.0 * p):
        names.append([None if f is None else f.name() for f, _ in r.grad_fn.next_functions])
    d.sum().backward()
    return names, a.grad.numpy(), d.detach().numpy()


def test_scalar_first_expressions_record_the_tensor_first():
    (ours, g, d), (theirs, tg, td) = _run_both(_walk)
    assert ours == theirs
    np.testing.assert_allclose(d, td, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linspace_matches_torch_to_the_bit(dtype):
    for start, end, steps in (
        (0.0, 6.283185307179586, 25),
        (-3.3, 7.1, 100),
        (5, -2, 33),
        (1e-3, 5.0, 4097),
        (0, 1, 2),
    ):
        ours = fastnn.linspace(start, end, steps, dtype=getattr(fastnn, dtype)).numpy()
        theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs)


def _node_names(lib):
    F = _mod(lib, "nn.functional")
    x = lib.ones(3, 4, 5, requires_grad=True)
    m = lib.ones(3, 5, requires_grad=True)
    w, b = lib.ones(2, 5, requires_grad=True), lib.ones(2, requires_grad=True)
    exprs = [
        x[0], x[:2], x[:, 1], x[0, :2], x[:2, 0], x[..., -1], x[:, :], x[None], x[:],
        x[lib.tensor([0, 1])], x[x > 0], x[0, :, 1:3], x[::2],
        F.linear(m, w, b), F.linear(m, w), m @ m.T, lib.bmm(x, x.transpose(1, 2)),
        F.cross_entropy(m, lib.tensor([0, 1, 2])), m.view(15), m.flatten(), m.double(),
        F.gelu(m), m.norm(), F.nll_loss(F.log_softmax(m, 1), lib.tensor([4, 0, 2])),
        F.nll_loss(m, lib.tensor([1, 1, 0]), reduction="none"),
    ]  # fmt: skip
    return [e.grad_fn.name() for e in exprs]


def test_printed_node_names_of_indexing_and_layers_match_torch():
    ours, theirs = _run_both(_node_names)
    assert ours == theirs


# ---- loading a checkpoint memory-mapped, into a module built elsewhere (assign=True) ----------


def _mapped_checkpoint(lib, path):
    nn = _mod(lib, "nn")
    lib.manual_seed(0)
    src = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    lib.save(src.state_dict(), path)
    state = lib.load(path, mmap=True, weights_only=True)
    dst = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    dst.load_state_dict(state, assign=True)
    x = lib.ones(2, 3)
    before = lib.load(path)["0.weight"].clone()
    with lib.no_grad():
        dst[0].weight.add_(1.0)  # a write to the mapped weights stays in memory
    after = lib.load(path)["0.weight"]
    return (
        lib.equal(before, after),
        isinstance(dst[0].weight, nn.Parameter),
        dst(x).shape == src(x).shape,
    )


def test_load_mmap_matches_torch(tmp_path):
    ours = _mapped_checkpoint(fastnn, str(tmp_path / "a.pt"))
    theirs = _mapped_checkpoint(torch, str(tmp_path / "b.pt"))
    assert ours == theirs == (True, True, True)
    import io

    with pytest.raises(ValueError, match="file path"):
        fastnn.load(io.BytesIO(b"PK"), mmap=True)
    with pytest.raises(RuntimeError, match="pickle_module"):
        fastnn.load(str(tmp_path / "a.pt"), pickle_module=__import__("pickle"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        fastnn.load(str(tmp_path / "a.pt"), mmap_mode="r")


# ---- recipes: optimizer state printed, the device context, swap_tensors ----------------------


def _recipe_bits(lib):
    nn, optim = _mod(lib, "nn"), _mod(lib, "optim")
    net = nn.Linear(2, 2)
    printed = []
    for make in (
        lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
        lambda p: optim.Adam(p),
        lambda p: optim.RMSprop(p),
        lambda p: optim.Adadelta(p),
        lambda p: optim.NAdam(p),
    ):
        opt = make(net.parameters())
        printed.append(str(opt.state_dict()["param_groups"]))
        printed.append(str(opt))
    with lib.device("cpu"):
        inside = str(lib.zeros(1).device)
    a, b = lib.zeros(2), nn.Parameter(lib.ones(3))
    keep_a = a
    lib.utils.swap_tensors(a, b)
    swapped = (
        keep_a is a,
        type(a).__name__,
        type(b).__name__,
        a.tolist(),
        b.tolist(),
        a.requires_grad,
        b.requires_grad,
    )
    return printed, inside, swapped


def test_recipe_printing_device_context_and_swap_match_torch():
    ours, theirs = _run_both(_recipe_bits)
    assert ours == theirs
    with pytest.raises(TypeError, match="Tensor"):
        fastnn.utils.swap_tensors(fastnn.zeros(1), [1.0])


# ---- the profiler's memory columns -----------------------------------------------------------


def _memory_table(lib):
    nn = _mod(lib, "nn")
    prof_mod = _mod(lib, "profiler")
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))
    x = lib.ones(8, 16)
    with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU], profile_memory=True) as p:
        model(x)
    table = p.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=5)
    heads = table.splitlines()[1].split()
    top = max(e.self_cpu_memory_usage for e in p.key_averages())
    with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU]) as q:
        model(x)
    plain = q.key_averages().table(row_limit=5).splitlines()[1].split()
    return heads, top, plain


def test_profile_memory_columns_match_torch():
    (heads, top, plain), (theirs, ttop, tplain) = _run_both(_memory_table)
    assert heads == theirs and plain == tplain
    assert "Mem" in heads and "Mem" not in plain
    # the largest: the two linear layers' float32 outputs (8 x 32 and 8 x 4), one row
    assert top == ttop == (8 * 32 + 8 * 4) * 4


def _loss_chain(lib):
    nn = _mod(lib, "nn")
    F = _mod(lib, "nn.functional")
    fc1, fc2, frozen = nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(3, 2, bias=False)
    frozen.weight.requires_grad_(False)
    x = lib.ones(5, 4)
    loss = nn.MSELoss()(fc2(F.relu(fc1(x))), lib.zeros(5, 2))
    node = loss.grad_fn.next_functions[0][0]
    names = [node.name()] + [None if f is None else f.name() for f, _ in node.next_functions]
    t = node.next_functions[2][0]
    names.append(t.next_functions[0][0].name())
    names.append(t.next_functions[0][0].variable is fc2.weight)
    no_bias = frozen(F.relu(fc1(x))).grad_fn
    names += [None if f is None else f.name() for f, _ in no_bias.next_functions]
    return names


def test_linear_node_shows_torchs_edges():
    ours, theirs = _run_both(_loss_chain)
    assert ours == theirs


# ---- the tuning guide's switches --------------------------------------------------------------


def test_tuning_switches_exist_as_in_torch():
    prof = fastnn.autograd.profiler
    ctx = prof.emit_nvtx(record_shapes=True)
    with ctx, pytest.raises(RuntimeError, match="reentrant"):
        ctx.__enter__()
    with prof.emit_itt(False):
        pass
    assert fastnn.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    assert isinstance(torch.backends.cpu.get_cpu_capability(), str)
    for flag in ("mkldnn", "mkl", "openmp"):
        assert getattr(fastnn.backends, flag).is_available() is False
    assert fastnn.backends.mkldnn.enabled is True


# ---- a scripted model saved and loaded whole ---------------------------------------------------


class _Scripted(fastnn.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = fastnn.nn.Linear(3, 2)
        self.save_me = fastnn.nn.Linear(2, 2)  # a submodule whose name starts like the method

    def forward(self, x):
        return self.save_me(self.fc(x).relu())


def test_scripted_module_save_and_jit_load(tmp_path):
    model = _Scripted()
    scripted = fastnn.jit.script(model)
    path = str(tmp_path / "scripted.pt")
    scripted.save(path)
    loaded = fastnn.jit.load(path)
    x = fastnn.ones(4, 3)
    assert fastnn.equal(loaded(x), model(x))
    traced = fastnn.jit.trace(_Scripted(), x)
    fastnn.jit.save(traced, str(tmp_path / "traced.pt"))
    assert fastnn.equal(fastnn.jit.load(str(tmp_path / "traced.pt"))(x), traced(x))
    assert not hasattr(_Scripted(), "save")  # plain modules have no save, as in torch
    with pytest.raises(TypeError, match="module"):
        fastnn.jit.save(lambda v: v, path)
    # torch's own archive holds compiled code
    tpath = str(tmp_path / "torch_script.pt")
    torch.jit.script(torch.nn.Linear(2, 2)).save(tpath)
    with pytest.raises(RuntimeError, match="TorchScript"):
        fastnn.jit.load(tpath)


# ---- TensorBoard: images, text and histograms as torch writes them ---------------------------


def _logged(lib, folder):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    writer = _mod(lib, "utils.tensorboard").SummaryWriter(folder)
    g = np.random.default_rng(3)
    writer.add_image("one", lib.tensor(g.random((1, 5, 7)), dtype=lib.float32), 1)
    writer.add_images("batch", lib.tensor(g.random((3, 3, 4, 4)), dtype=lib.float32), 2)
    pixels = lib.tensor((g.random((6, 2)) * 255).astype(np.uint8))
    writer.add_image("gray", pixels, 3, dataformats="HW")
    writer.add_text("note", "loss *fell*", 4)
    writer.add_histogram("default", lib.tensor(g.standard_normal(100)), 5)
    writer.add_histogram("merged", lib.tensor(g.standard_normal(500)), 6, bins=40, max_bins=7)
    writer.close()
    import glob

    values = []
    for path in sorted(glob.glob(folder + "/events*")):
        for event in EventFileLoader(path).Load():
            values += [(event.step, v.SerializeToString()) for v in event.summary.value]
    return values


def test_summary_writer_images_text_histograms_match_torch(tmp_path):
    pytest.importorskip("tensorboard")
    pytest.importorskip("PIL")
    ours = _logged(fastnn, str(tmp_path / "a"))
    theirs = _logged(torch, str(tmp_path / "b"))
    assert len(ours) == 6 and ours == theirs
    writer = fastnn.utils.tensorboard.SummaryWriter(str(tmp_path / "c"))
    with pytest.raises(AssertionError, match="input format"):
        writer.add_image("bad", fastnn.ones(2, 3), dataformats="CHW")
    with pytest.raises(ValueError, match="no element"):
        writer.add_histogram("empty", fastnn.ones(0))
    writer.close()


def test_to_an_unknown_device_string_raises_runtime_error_as_torch():
    for lib in (fastnn, torch):
        with pytest.raises(RuntimeError, match="device string: foo"):
            lib.ones(2).to("foo")
        lin = lib.nn.Linear(2, 2)
        before = lin.weight.detach().clone()
        with pytest.raises(RuntimeError, match="device string"):
            lin.to("foo")
        assert lib.equal(lin.weight, before)
    assert fastnn.ones(2).to("float64").dtype == fastnn.float64  # fastnn's dtype names still work
