"""Your own op: f(x, beta) = x * sigmoid(beta * x), gradchecked, in a layer. docs/write_your_own_op.md"""
import numpy as np
import minigrad as mg
from minigrad.engine import unbroadcast
from minigrad.layers import Layer

class SwishBeta(mg.Function):
    """f = x s, s = sigmoid(beta x);  df/dx = s + beta x s (1 - s),  df/dbeta = x^2 s (1 - s)."""
    @staticmethod
    def forward(ctx, x, beta):          # x: (..., C); beta: (C,), broadcast over the other axes
        s = 1 / (1 + np.exp(-beta * x))
        ctx.x, ctx.beta, ctx.s, ctx.ds = x, beta, s, s * (1 - s)   # ds: sigmoid' at beta x
        return x * s
    @staticmethod
    def backward(ctx, grad):            # grad = dL/df, shaped like x; returns (dL/dx, dL/dbeta)
        x, beta, s, ds = ctx.x, ctx.beta, ctx.s, ctx.ds
        return grad * (s + beta * x * ds), unbroadcast(grad * x * x * ds, beta.shape)

class WrongSwishBeta(SwishBeta):        # a bug for gradcheck to catch: one x missing in df/dbeta
    @staticmethod
    def backward(ctx, grad):            # dL/dx as above, dL/dbeta wrong
        return SwishBeta.backward(ctx, grad)[0], unbroadcast(grad * ctx.x * ctx.ds, ctx.beta.shape)

class SwishBetaLayer(Layer):            # one learnable beta per channel; weights: [beta (C,)]
    def build(self, input_shape):
        self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="ones")
    def call(self, inputs, training=False):
        return SwishBeta.apply(inputs, self.beta)

if __name__ == "__main__":
    x, beta = np.random.default_rng(0).normal(size=(3, 4)), np.linspace(0.5, 2.0, 4)
    print("gradcheck:", mg.testing.gradcheck(SwishBeta.apply, [x, beta]))
    try:
        mg.testing.gradcheck(WrongSwishBeta.apply, [x, beta])
    except AssertionError as err:
        print("caught:", err)
    layer = SwishBetaLayer()
    layer(x).mean().backward()
    print("d(mean)/d(beta):", layer.beta.grad)
