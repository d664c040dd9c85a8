"""einops' own functions (einops.rearrange / reduce / repeat / pack / einsum ...) on ricci tensors.

einops finds a backend for a tensor type among the subclasses of einops._backends.AbstractBackend
whose framework is imported. This module defines ricci's once einops._backends exists: at
`import ricci` when einops was imported first, otherwise right after einops is imported (a
meta-path hook that runs once and removes itself), so importing ricci never imports einops.
(einops.array_api.* works without this, through Tensor.__array_namespace__.)
"""
import importlib.abc
import sys

_defined = False


def _define(backends):
    global _defined
    if _defined:
        return
    _defined = True

    class RicciBackend(backends.AbstractBackend):
        framework_name = "ricci"

        def __init__(self):
            import ricci

            self.ricci = ricci

        def is_appropriate_type(self, tensor):
            return isinstance(tensor, self.ricci.Tensor)

        def from_numpy(self, x):
            return self.ricci.tensor(x)

        def to_numpy(self, x):
            return x.detach().numpy()

        def arange(self, start, stop):
            return self.ricci.arange(start, stop)

        def shape(self, x):
            return tuple(x.shape)

        def reshape(self, x, shape):
            return x.reshape(tuple(shape))

        def transpose(self, x, axes):
            return x.permute(list(axes))

        def reduce(self, x, operation, reduced_axes):
            axes = list(reduced_axes)
            if operation == "min":
                return x.amin(dim=axes)
            if operation == "max":
                return x.amax(dim=axes)
            if operation == "sum":
                return x.sum(dim=axes)
            if operation == "mean":
                return x.mean(dim=axes)
            if operation in ("any", "all"):
                return getattr(x, operation)(dim=axes)
            if operation == "prod":
                for a in sorted(axes, reverse=True):
                    x = x.prod(a)
                return x
            raise NotImplementedError("Unknown reduction ", operation)

        def stack_on_zeroth_dimension(self, tensors):
            return self.ricci.stack(list(tensors))

        def add_axis(self, x, new_position):
            return x.unsqueeze(new_position)

        def add_axes(self, x, n_axes, pos2len):
            repeats = [-1] * n_axes
            for axis_position, axis_length in pos2len.items():
                x = self.add_axis(x, axis_position)
                repeats[axis_position] = axis_length
            return x.expand(repeats)

        def tile(self, x, repeats):
            return x.repeat(list(repeats))

        def concat(self, tensors, axis):
            return self.ricci.cat(list(tensors), axis)

        def is_float_type(self, x):
            return x.dtype.is_floating_point

        def einsum(self, pattern, *x):
            return self.ricci.einsum(pattern, *x)

    backends.RicciBackend = RicciBackend


class _Hook(importlib.abc.MetaPathFinder):
    """Runs _define right after einops._backends is executed, then leaves sys.meta_path."""

    def find_spec(self, name, path, target=None):
        if name != "einops._backends":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                loader = spec.loader
                original = loader.exec_module

                def exec_module(module, _original=original):
                    _original(module)
                    _define(module)

                loader.exec_module = exec_module
                return spec
        return None


def install():
    mod = sys.modules.get("einops._backends")
    if mod is not None:
        _define(mod)
    elif not any(isinstance(f, _Hook) for f in sys.meta_path):
        sys.meta_path.insert(0, _Hook())
