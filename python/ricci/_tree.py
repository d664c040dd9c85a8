"""Flattening nested lists / tuples / dicts of tensors into a flat list and back (MLX's trees)."""
from ._ricci import Tensor


def flatten(tree):
    """Returns (leaves, treedef): the tensors of `tree` in order, and what rebuilds it."""
    leaves = []

    def walk(node):
        if isinstance(node, Tensor):
            leaves.append(node)
            return ("leaf",)
        if isinstance(node, (list, tuple)):
            return (type(node), [walk(x) for x in node])
        if isinstance(node, dict):
            keys = list(node.keys())
            return (dict, keys, [walk(node[k]) for k in keys])
        return ("const", node)  # numbers, None, strings: kept as they are

    return leaves, walk(tree)


def unflatten(treedef, leaves):
    it = iter(leaves)

    def build(d):
        tag = d[0]
        if tag == "leaf":
            return next(it)
        if tag == "const":
            return d[1]
        if tag is dict:
            return {k: build(s) for k, s in zip(d[1], d[2])}
        items = [build(s) for s in d[1]]
        return items if tag is list else tag(items) if tag is tuple else tag(*items)

    return build(treedef)


def num_leaves(treedef):
    tag = treedef[0]
    if tag == "leaf":
        return 1
    if tag == "const":
        return 0
    subs = treedef[2] if tag is dict else treedef[1]
    return sum(num_leaves(s) for s in subs)
