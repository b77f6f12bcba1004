"""Chi2: the sum of ``df`` squared standard normals, a Gamma(df / 2, 1 / 2)."""

from typing import ClassVar

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    """``Chi2(df, validate_args=None)``; everything else is Gamma's (KL pairs included)."""

    _param_names = ("df",)
    arg_constraints: ClassVar[dict] = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, df.new_full(df.shape, 0.5), validate_args)

    @property
    def df(self):
        return self.concentration * 2

    def _validate_params(self):
        # the checks read df, derived from concentration; the Gamma's names are not torch's
        if not bool(constraints.positive.check(self.concentration).all()):
            raise ValueError(
                f"Expected parameter df (Tensor of shape {tuple(self.df.shape)}) of "
                f"distribution {self!r} to satisfy the constraint {constraints.positive!r}, "
                f"but found invalid values:\n{self.df}"
            )

    def __repr__(self):
        return f"Chi2(df: {self.df.size() if self.df.numel() != 1 else self.df})"
