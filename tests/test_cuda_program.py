"""A PyTorch program as users write it for a GPU (the device picked by
``torch.cuda.is_available()``, the model and each batch moved with ``.to(device)``, ``.item()``
to read the loss, a state_dict taken back to the CPU) runs on fastnn with only its import
changed, and trains on the GPU as on the CPU."""

import numpy as np
import pytest

import fastnn


def program(torch, device, steps=20):
    """A small CNN trained with Adam on one fixed batch; returns the losses, the accuracy on
    that batch, the trained state_dict on the CPU, the model and the batch."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.bn = nn.BatchNorm2d(16)
            self.fc = nn.Linear(16 * 7 * 7, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.bn(self.conv2(x))))
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    model = Net().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 32)
    losses = []
    model.train()
    for _ in range(steps):
        x, y = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    state = {k: v.cpu() for k, v in model.state_dict().items()}
    return losses, accuracy, state, model, x


def test_the_program_runs_on_the_cpu():
    losses, accuracy, state, _, _ = program(fastnn, "cpu", steps=5)
    assert losses[-1] < losses[0] and 0.0 <= accuracy <= 1.0
    assert state["fc.weight"].shape == (10, 16 * 7 * 7)


@pytest.mark.cuda
@pytest.mark.skipif(not fastnn.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_program_trains_on_the_gpu_as_on_the_cpu():
    device = fastnn.device("cuda" if fastnn.cuda.is_available() else "cpu")
    losses, accuracy, state, model, x = program(fastnn, device)
    cpu_losses, cpu_accuracy, cpu_state, _, _ = program(fastnn, "cpu")
    assert losses[-1] < 0.5 * losses[0]  # it learns the batch
    np.testing.assert_allclose(losses[:5], cpu_losses[:5], rtol=1e-3)
    assert abs(accuracy - cpu_accuracy) <= 0.1
    for k, v in state.items():
        assert v.device.type == "cpu" and v.shape == cpu_state[k].shape
    # the trained model moved to the CPU predicts what it predicted on the GPU
    with fastnn.no_grad():
        on_gpu = model(x).cpu().numpy()
        model.cpu()
        on_cpu = model(x.cpu()).numpy()
    np.testing.assert_allclose(on_cpu, on_gpu, rtol=1e-4, atol=1e-4)
