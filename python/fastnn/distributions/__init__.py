"""Probability distributions in torch.distributions' form: ``sample`` / ``rsample``,
differentiable ``log_prob`` and ``entropy``, ``batch_shape`` / ``event_shape``.

``Categorical`` serves policy-gradient programs (sample an action, keep its log-probability);
``Normal`` serves continuous actions and reparameterized sampling.
"""

from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal

__all__ = ["Categorical", "Distribution", "Normal"]
