"""The speed anchor of `npm run bench:train -- --vs-torch`: the same training iterations in PyTorch.

Reads a JSON list of workloads on stdin ({rule, hidden, grid, batch, steps, threads}) and prints
one JSON object per workload: {"rule", "hidden", "grid", "batch", "steps", "threads",
"msPerIteration"}. One iteration = a rollout of `batch` samples for `steps` steps from a grown-
looking start (a centred disc over 31 % of the grid alive, as the TypeScript bench uses),
back-propagation through time of the RGBA mean squared error of the last state, and an Adam step,
timed over 2 iterations after 2 warm-up iterations, as the TypeScript bench does.

The essay rule as its own code writes it: a fixed depthwise 3x3 perception [identity, Moore mean,
sobel_x + sobel_y], 1x1 convolutions, atan, sigmoid, a per-element random replace mask
(torch.rand_like), cells with alpha <= 0.1 zeroed. Distill's: [identity, sobel_x / 8,
sobel_y / 8], relu, a zero-initialised residual update with a per-cell mask, 3x3 max-pool alive
masks before and after. Nothing is skipped: every cell runs every layer.

Both memory formats are timed (NCHW, as the essay's code runs, and channels-last) and the faster
is reported as the anchor.

Only a benchmark anchor (Debian's python3-torch): never a dependency of the package or its tests.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

CHANNELS = 16
FIRE_RATE = 0.5
TIMED = 2
WARM_UP = 2


def kernels(rule):
    identity = torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]])
    sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    if rule == "essay":
        mean = torch.tensor([[1.0, 1, 1], [1, 0, 1], [1, 1, 1]]) / 8
        return [identity, mean, sobel_x + sobel_x.T]
    return [identity, sobel_x / 8, sobel_x.T / 8]


class Nca(torch.nn.Module):
    def __init__(self, rule, hidden):
        super().__init__()
        self.rule = rule
        ks = kernels(rule)
        # Depthwise filter, channel-major: output channel c * K + k.
        weight = torch.stack([k for _ in range(CHANNELS) for k in ks])[:, None]
        self.register_buffer("perception", weight)
        self.dense1 = torch.nn.Conv2d(CHANNELS * len(ks), hidden, 1)
        self.dense2 = torch.nn.Conv2d(hidden, CHANNELS, 1, bias=rule == "essay")
        if rule == "distill":
            torch.nn.init.zeros_(self.dense2.weight)

    def alive(self, x):
        return F.max_pool2d(x[:, 3:4], 3, 1, 1) > 0.1

    def forward(self, x):
        p = F.conv2d(x, self.perception, padding=1, groups=CHANNELS)
        if self.rule == "essay":
            y = torch.sigmoid(self.dense2(torch.atan(self.dense1(p))))
            mask = (torch.rand_like(x) < FIRE_RATE).float()
            x = x * (1 - mask) + y * mask
            return x * (x[:, 3:4] > 0.1).float()
        before = self.alive(x)
        y = self.dense2(torch.relu(self.dense1(p)))
        mask = (torch.rand_like(x[:, :1]) < FIRE_RATE).float()
        x = x + y * mask
        return x * (before & self.alive(x)).float()


def start_state(batch, grid, generator):
    x = torch.zeros(batch, CHANNELS, grid, grid)
    radius2 = 0.31 * grid * grid / torch.pi
    ys, xs = torch.meshgrid(torch.arange(grid) + 0.5 - grid / 2, torch.arange(grid) + 0.5 - grid / 2, indexing="ij")
    disc = (xs**2 + ys**2 < radius2).float()
    x = torch.rand(batch, CHANNELS, grid, grid, generator=generator) * disc
    x[:, 3] = (0.2 + 0.8 * torch.rand(batch, grid, grid, generator=generator)) * disc
    return x


def time_workload(workload, memory_format):
    torch.set_num_threads(workload["threads"])
    # NOTE: without this, subnormal intermediates made some workloads ~10x slower on this CPU
    # (essay 40x40: 9 s per iteration, 72x72: 1 s); a tuned PyTorch run flushes them.
    torch.set_flush_denormal(True)
    torch.manual_seed(1)
    generator = torch.Generator().manual_seed(1)
    model = Nca(workload["rule"], workload["hidden"]).to(memory_format=memory_format)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    start = start_state(workload["batch"], workload["grid"], generator).contiguous(memory_format=memory_format)
    target = start[:1, :4].clone()

    def iteration():
        x = start
        for _ in range(workload["steps"]):
            x = model(x)
        loss = F.mse_loss(x[:, :4], target.expand(x.shape[0], -1, -1, -1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(WARM_UP):
        iteration()
    began = time.perf_counter()
    for _ in range(TIMED):
        iteration()
    return (time.perf_counter() - began) / TIMED * 1000


def main():
    for workload in json.load(sys.stdin):
        # NOTE: Debian's build has a generic BLAS: its NCHW 1x1 convolutions are ~30x slower than
        # the oneDNN path channels-last takes. Both are timed; the faster is the anchor.
        nchw = time_workload(workload, torch.contiguous_format)
        nhwc = time_workload(workload, torch.channels_last)
        best = "channels_last" if nhwc < nchw else "nchw"
        print(json.dumps({**workload, "msPerIteration": min(nchw, nhwc), "memoryFormat": best, "msNchw": nchw, "msChannelsLast": nhwc}), flush=True)


if __name__ == "__main__":
    main()
