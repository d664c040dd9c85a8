"""ricci.nn: Module (subclassable in Python), the layers, containers, and nn.functional."""
from collections import OrderedDict

from . import _ricci
from ._ricci.nn import (Module, Parameter, Linear, Embedding, LayerNorm, RMSNorm, Dropout, ReLU, GELU,  # noqa: F401
                        SiLU, Tanh, Sigmoid, CausalSelfAttention, TransformerBlock,
                        QuantizedLinear, QuantizedEmbedding, quantize, set_activation_precision)
from ._ricci.nn import functional  # noqa: F401
from ._ricci import nn as _cnn

init = None  # not bound yet


class ModuleList(Module):
    """A list of modules, registered as children "0", "1", ..."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.register_module(str(len(self)), module)
        return self

    def __len__(self):
        return len(self.named_children())

    def __getitem__(self, i):
        return self.named_children()[i][1]

    def __iter__(self):
        return iter(m for _, m in self.named_children())


class Sequential(ModuleList):
    """Modules called in order; Sequential(a, b, c) or Sequential(OrderedDict(name=module))."""

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            Module.__init__(self)
            for name, m in modules[0].items():
                self.register_module(name, m)
        else:
            super().__init__(modules)

    def forward(self, x):
        for m in self:
            x = m(x)
        return x


class ModuleDict(Module):
    def __init__(self, modules=None):
        super().__init__()
        for k, m in (modules or {}).items():
            self.register_module(k, m)

    def __getitem__(self, k):
        return getattr(self, k)

    def __setitem__(self, k, m):
        self.register_module(k, m)

    def __len__(self):
        return len(self.named_children())

    def keys(self):
        return [n for n, _ in self.named_children()]

    def items(self):
        return self.named_children()


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return functional.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__()
        self._opts = dict(weight=weight, ignore_index=ignore_index, reduction=reduction,
                          label_smoothing=label_smoothing)

    def forward(self, input, target):
        return functional.cross_entropy(input, target, **self._opts)


def _method_as_functional(name):
    def f(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    # named as a function of nn.functional, so that stubgen writes `def relu(input, *args, **kwargs)`
    f.__name__ = f.__qualname__ = name
    f.__module__ = functional.__name__
    f.__doc__ = f"F.{name}(input, ...) is input.{name}(...)"
    return f


for _name in ("relu", "gelu", "silu", "sigmoid", "tanh", "softplus"):
    setattr(functional, _name, _method_as_functional(_name))
for _name in ("elu", "selu", "celu", "leaky_relu", "logsigmoid", "mish", "pad"):
    setattr(functional, _name, getattr(_ricci, _name))
del _cnn

# `import ricci.nn.functional as F` (the C++ submodule is not a file of a package)
import sys as _sys  # noqa: E402

_sys.modules[__name__ + ".functional"] = functional
