GOALS = """After this lesson you can:
- build a graph of scalar operations and backpropagate through it in reverse topological order;
- write the local derivative of +, *, tanh, exp and chain them;
- check any derivative against a central finite difference (f(x+h) - f(x-h)) / 2h;
- do the same with minigan's Tensor: .backward() fills .grad, minigan.grad returns gradients.
"""

# %% [markdown]
# # Lesson 02: autograd from scratch
#
# Training a GAN means computing d(loss)/d(every weight). Autograd does it by recording each
# operation as a node of a graph while computing forward, then walking the graph *backwards*
# applying the chain rule. We first build the smallest such engine, for scalars, right here.

# %%
import math

import numpy as np
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan

args = lesson_setup(2, "Autograd from scratch", GOALS)
OUT = out_dir(2)

# %% [markdown]
# ## A scalar Value that remembers how it was made
#
# Each Value keeps its number `data`, the Values it came from (`parents`), and a `_backward`
# closure that, given d(out)/d(self) in `self.grad`, adds each parent's share by the chain rule:
# d(out)/d(parent) += d(out)/d(self) · d(self)/d(parent).
#
# `backward()` must call a node's `_backward` only after *every* node that uses it has added its
# share to its `grad`. Reverse topological order guarantees that: sort the graph so each node
# comes after its parents, then walk the list from the end (the output) to the start (the inputs).

# %%


class Value:
    """A scalar with a gradient: data, grad = d(output)/d(self), and how it was computed."""

    def __init__(self, data: float, parents: tuple = (), op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward():  # d e^a/da = e^a
            self.grad += e * out.grad
        out._backward = _backward
        return out

    def backward(self) -> None:
        order, seen = [], set()

        def visit(v):  # depth-first: a node joins `order` after all its parents
            if id(v) not in seen:
                seen.add(id(v))
                for p in v.parents:
                    visit(p)
                order.append(v)
        visit(self)
        self.grad = 1.0  # d(out)/d(out)
        for v in reversed(order):  # output first, inputs last
            v._backward()

    def __repr__(self) -> str:
        return f"Value(data={self.data:.4f}, grad={self.grad:.4f})"


# %% [markdown]
# ## A small function, its graph, and its gradient
#
# f(x, w, b) = tanh(w·x + b) · exp(x). Note that x is used twice: its gradient is the *sum* of
# the two paths, which is why `_backward` uses `+=`.

# %%
def f_value(x: float, w: float, b: float) -> tuple[Value, Value, Value, Value]:
    X, W, B = Value(x), Value(w), Value(b)
    out = (W * X + B).tanh() * X.exp()
    return out, X, W, B


out, X, W, B = f_value(0.5, -1.2, 0.3)
out.backward()
print(f"f = {out.data:.6f}")
print(f"  by backprop:  df/dx = {X.grad:+.6f}  df/dw = {W.grad:+.6f}  df/db = {B.grad:+.6f}")


def numeric(fn, x: float, h: float = 1e-5) -> float:
    """Central difference (f(x+h) - f(x-h)) / 2h: error O(h^2)."""
    return (fn(x + h) - fn(x - h)) / (2 * h)


nx = numeric(lambda v: f_value(v, -1.2, 0.3)[0].data, 0.5)
nw = numeric(lambda v: f_value(0.5, v, 0.3)[0].data, -1.2)
nb = numeric(lambda v: f_value(0.5, -1.2, v)[0].data, 0.3)
print(f"  numerically:  df/dx = {nx:+.6f}  df/dw = {nw:+.6f}  df/db = {nb:+.6f}")
err = max(abs(X.grad - nx), abs(W.grad - nw), abs(B.grad - nb))
print(f"  largest difference {err:.2e}  ->  {'agree' if err < 1e-6 else 'DISAGREE'}")
assert err < 1e-6
pause()

# %% [markdown]
# ## Along a whole range of x
#
# The figure plots f(x) and df/dx from the Value engine and from finite differences on a grid.
# The two derivative curves lie on top of each other.

# %%
xs = np.linspace(-2, 2, 41 if args.quick else 201)
fs, d_auto, d_num = [], [], []
for x in xs:
    o, Xv, _, _ = f_value(x, -1.2, 0.3)
    o.backward()
    fs.append(o.data)
    d_auto.append(Xv.grad)
    d_num.append(numeric(lambda v: f_value(v, -1.2, 0.3)[0].data, x))
d_auto, d_num = np.array(d_auto), np.array(d_num)
print(f"on {len(xs)} points in [-2, 2]: max |backprop - numeric| = {np.abs(d_auto - d_num).max():.2e}")

fig = Figure(figsize=(6.5, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(xs, fs, lw=2, label="f(x) = tanh(wx + b) e^x")
ax.plot(xs, d_auto, lw=3, alpha=0.6, label="df/dx by backprop (Value)")
ax.plot(xs, d_num, "k.", ms=4, label="df/dx by central difference")
ax.axhline(0, color="gray", lw=0.5)
ax.set_xlabel("x")
ax.set_title("reverse-mode autograd vs a numerical derivative (w = -1.2, b = 0.3)")
ax.legend(fontsize=8)
path = OUT / "value_vs_numeric.png"
show(fig, path)
pause()

# %% [markdown]
# ## The same with minigan's Tensor
#
# minigan.Tensor is the same idea for arrays: every operation records a node; `.backward()` walks
# the graph in reverse topological order and leaves d(out)/d(leaf) in each leaf's `.grad`.
# `minigan.grad(out, inputs)` returns the gradients instead of storing them (as torch.autograd.grad).
# Float64 tensors let us compare with the Value engine to many digits.

# %%
x = minigan.tensor(np.array(0.5), requires_grad=True)
w = minigan.tensor(np.array(-1.2), requires_grad=True)
b = minigan.tensor(np.array(0.3), requires_grad=True)
y = minigan.tanh(w * x + b) * minigan.exp(x)
y.backward()
print(f"minigan:  f = {y.item():.6f}  df/dx = {x.grad.item():+.6f}  df/dw = {w.grad.item():+.6f}"
      f"  df/db = {b.grad.item():+.6f}")
print(f"Value:    f = {out.data:.6f}  df/dx = {X.grad:+.6f}  df/dw = {W.grad:+.6f}  df/db = {B.grad:+.6f}")
assert abs(x.grad.item() - X.grad) < 1e-9

# %% [markdown]
# On a whole vector at once: y_i = tanh(w x_i + b) e^{x_i}, summed. `minigan.grad` gives
# d(sum)/dx, a vector with one entry per x_i, equal to the curve above.

# %%
xv = minigan.tensor(xs, requires_grad=True)
total = (minigan.tanh(w * xv + b) * minigan.exp(xv)).sum()
(gx,) = minigan.grad(total, xv)
print(f"minigan.grad on {xv.shape}: gradient shape {gx.shape}; max |minigan - Value| = "
      f"{np.abs(gx.numpy() - d_auto).max():.2e}")
done("a graph, reverse topological order and the chain rule are all of backprop.")
