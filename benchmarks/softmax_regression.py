"""MNIST with no hidden layer: how far softmax regression gets (the figure in chapter 1).

    python3 benchmarks/softmax_regression.py [--epochs 5] [--limit N]

Take purenet's network and remove the ReLU: z2 = W2 (W1 x + b1) + b2 is
then A x + c with A = W2 W1 and c = W2 b1 + b2, one affine map, and the
model is softmax(A x + c), multinomial logistic regression.  This script
trains that model directly, with purenet's own pieces and nothing else:

    z = A x + c              10 logits     (matrix.matvec, matrix.add)
    p = softmax(z)                         (network.softmax)
    L = logsumexp(z) - y.z                 (network.cross_entropy)
    dz = p - y,  dA = dz x^T,  dc = dz     (chapter 3's short form, one layer)
    A <- A - eta dA,  c <- c - eta dc      (means over a mini-batch)

on the same 55,000 training images as ``purenet train`` (the first 55,000;
the last 5,000 are left out as its validation set is), and measures the
accuracy on the 10,000 test images after each epoch.  A and c start at 0: with no hidden
layer the loss is convex in (A, c) and there is no symmetry to break, so
zero is as good a start as any.  Plain SGD, a constant learning rate, a
fixed shuffle: the script is about the model, not about tuning it.

It is slow (pure Python, dense: about 15,000 multiply-adds per image per
step), a few minutes an epoch.  Nothing here is a test.
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from purenet.matrix import add, argmax, madd, matvec, mscale, msub, outer, scale, sub, zeros  # noqa: E402
from purenet.mnist import load_mnist  # noqa: E402
from purenet.network import cross_entropy, one_hot, softmax, to_vector  # noqa: E402

N_TRAIN = 55_000
N_OUT = 10


def step_(A, c, images, labels, lr):
    """One SGD step on a mini-batch, in place; returns the batch's mean loss."""
    dA, dc, loss = zeros(N_OUT, len(A[0])), [0.0] * N_OUT, 0.0
    for image, label in zip(images, labels):
        x, y = to_vector(image), one_hot(label, N_OUT)
        z = add(matvec(A, x), c)
        loss += cross_entropy(z, y)
        dz = sub(softmax(z), y)
        dA, dc = madd(dA, outer(dz, x)), add(dc, dz)
    B = len(labels)
    A[:] = msub(A, mscale(lr / B, dA))
    c[:] = sub(c, scale(lr / B, dc))
    return loss / B


def accuracy(A, c, images, labels):
    right = sum(argmax(add(matvec(A, to_vector(image)), c)) == label
                for image, label in zip(images, labels))
    return right / len(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--limit", type=int, default=N_TRAIN, help="train on the first N images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train, test = load_mnist("train"), load_mnist("test")
    images, labels = train.images[:args.limit], train.labels[:args.limit]
    A, c = zeros(N_OUT, train.rows * train.cols), [0.0] * N_OUT
    rng = random.Random(args.seed)
    order = list(range(len(labels)))
    print(f"softmax regression (784-10, no hidden layer): {len(labels):,} training images, "
          f"batch {args.batch_size}, lr {args.lr} (constant), {args.epochs} epochs, "
          f"A and c from 0, shuffle seed {args.seed}; Python {sys.version.split()[0]}")
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        rng.shuffle(order)
        losses = []
        for first in range(0, len(order), args.batch_size):
            batch = order[first:first + args.batch_size]
            losses.append(step_(A, c, [images[n] for n in batch], [labels[n] for n in batch],
                                args.lr))
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}/{args.epochs}  mean batch loss {sum(losses) / len(losses):.4f}  "
              f"test accuracy {accuracy(A, c, test.images, test.labels):.4f}  ({seconds:.0f} s)")
    print(f"(test accuracy: the fraction of the {len(test.labels):,} test images classified right)")


if __name__ == "__main__":
    main()
