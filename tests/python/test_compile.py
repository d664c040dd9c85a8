"""ricci.compile from Python: same values as the function, retraced per signature, random ops stay random."""
import ricci


def test_compile_matches_and_retraces():
    calls = []

    @ricci.compile
    def f(x, y):
        calls.append(1)
        return (x * y + 1).tanh(), x - y

    a, b = ricci.randn(4, 5), ricci.randn(5)
    out, diff = f(a, b)
    assert ricci.allclose(out, (a * b + 1).tanh())
    assert ricci.allclose(diff, a - b)
    f(a + 1, b)
    assert len(calls) == 1  # replayed from the cache
    f(ricci.randn(2, 3), ricci.randn(3))
    assert len(calls) == 2  # a new shape traces again


def test_compile_random_stays_random_and_composes_with_grad():
    noisy = ricci.compile(lambda x: x + ricci.randn_like(x))
    z = ricci.zeros(6)
    assert not ricci.allclose(noisy(z), noisy(z))
    g = ricci.grad(ricci.compile(lambda x: (x * x).sum()))
    x = ricci.tensor([1.0, -2.0, 3.0])
    assert ricci.allclose(g(x), 2 * x)


def test_compile_generated_code_and_interpreter_agree():
    def gelu(x):
        return 0.5 * x * (1 + ((x + 0.044715 * x * x * x) * 0.7978845608028654).tanh())

    x = ricci.randn(10001) * 3
    generated = ricci.compile(gelu)(x)  # generated machine code where the CPU allows (docs/compile.md)
    interpreted = ricci.compile(gelu, generate_code=False)(x)
    assert generated.equal(interpreted)  # bit for bit
    # 1 + tanh(u) runs as 2 * sigmoid(2 * u): within float32 rounding of eager's value ...
    assert ricci.allclose(interpreted, gelu(x), rtol=1e-6, atol=1e-6)
    # ... whose doublings merge with the constants around them: x * sigmoid(u * 1.596), 7 ops.
    rewritten = ricci.compile(gelu, generate_code=False)
    rewritten(x)
    assert rewritten.stats()["ops"] == 7
    # ... and eager's ops exactly with the stable rewrites off.
    exact = ricci.compile(gelu, stable_rewrites=False)
    assert exact(x).equal(gelu(x))
    assert exact.stats()["ops"] == 9


def test_compile_of_grad_matches_grad():
    # The backward pass is traced into the compiled program (docs/compile.md, "Gradients inside
    # the trace"); a second call replays it on new values.
    def loss(w, x):
        return ((x @ w).tanh() ** 2).mean()

    g = ricci.compile(ricci.grad(loss))
    for _ in range(2):
        w, x = ricci.randn(5, 3), ricci.randn(4, 5)
        assert ricci.allclose(g(w, x), ricci.grad(loss)(w, x), rtol=1e-5, atol=1e-6)


def test_compile_stats_say_what_was_traced():
    g = ricci.compile(ricci.grad(lambda x: (x.exp() * x).sum()))
    g(ricci.randn(8))
    st = g.stats()
    assert st["traceable"] and st["untraceable_reason"] == ""
    assert st["traced_ops"] >= 3  # exp, mul, sum and the backward pass

    reads = ricci.compile(lambda x: x * float(x.sum().item()))
    reads(ricci.ones(3))
    st = reads.stats()
    assert not st["traceable"]
    assert "needs a traced tensor's value" in st["untraceable_reason"]
