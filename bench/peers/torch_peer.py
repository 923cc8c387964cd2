#!/usr/bin/env python3
"""PyTorch / Opacus peer of `dpsgd bench`: the same models, batch and step, timed in PyTorch.

Builds small-cnn, fmnist-cnn, resnet18/34/50-gn and wrn16-4 exactly as
common/src/main/java/org/dpsgd/model/ModelZoo.java does (same layers, GroupNorm group counts,
eps 1e-5, bias flags, pooling, activations, parameter names), then times full training steps:

  torch-nonprivate  forward, mean cross-entropy, backward, SGD step
  opacus            Opacus PrivacyEngine.make_private (sigma, C, fixed batch, no Poisson
                    sampling): forward, backward (per-sample gradients by hooks),
                    optimizer.step (per-sample clipping, Gaussian noise, SGD update)
  opacus-ghost      the same with grad_sample_mode="ghost" (fast gradient clipping;
                    Opacus >= 1.5.3, which needs torch >= 2.0; see docs/benchmarks.md)

Each strategy warms up on its own (its peak memory is read then), then the timed steps rotate
through the strategies in blocks of consecutive steps, as `dpsgd bench` does, so a change in
machine load hits all of them alike. A strategy's time is the median over its blocks of the
block's mean step time, as in `dpsgd bench`.

Setup (Debian's python3-torch, an Opacus checkout on PYTHONPATH): see docs/benchmarks.md,
section "Beside PyTorch and Opacus". Run it with Debian's /usr/bin/python3.

With --json it prints exactly one line, in the shape of `dpsgd bench --json`:
{"model", "batch", "parameters", "results": [{"strategy", "median_ms", "examples_per_s", "ratio",
"peak_mb"}], "versions": {"torch", "opacus", ...}}; ratio is relative to torch-nonprivate.
With --check it only checks the arguments and that torch (and Opacus, where a strategy needs it)
can be imported, and prints nothing. Errors go to stderr as one line starting with
"torch_peer: error:", with exit status 2 (bad arguments) or 3 (torch or Opacus missing).
"""

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import sys
import time

STRATEGIES = ("torch-nonprivate", "opacus", "opacus-ghost")
MODELS = ("resnet18-gn", "resnet34-gn", "resnet50-gn", "wrn16-4", "fmnist-cnn", "small-cnn")
EPS = 1e-5  # ModelZoo.EPS


class PeerError(Exception):
    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def parse_args(argv):
    p = argparse.ArgumentParser(prog="torch_peer.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--input", default="3x32x32", help="per-sample input shape CxHxW")
    p.add_argument("--stem", default="imagenet", choices=("imagenet", "cifar"), help="ResNet stem")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--strategies", default="torch-nonprivate,opacus",
                   help="comma list of " + ", ".join(STRATEGIES) + "; torch-nonprivate is the baseline of the ratios")
    p.add_argument("--steps", type=int, default=5, help="timed steps per strategy")
    p.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps per strategy")
    p.add_argument("--block", type=int, default=5, help="consecutive timed steps per strategy before rotating")
    p.add_argument("--sigma", type=float, default=1.0, help="noise multiplier")
    p.add_argument("--clip", type=float, default=1.0, help="per-sample clip norm C")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="intra-op threads (inter-op: 1)")
    p.add_argument("--device", default=os.environ.get("TORCH_PEER_DEVICE", "cpu"),
                   help="cpu or cuda[:N] (default: $TORCH_PEER_DEVICE, else cpu; dpsgd bench passes its environment on)")
    p.add_argument("--json", action="store_true", help="print exactly one JSON line")
    p.add_argument("--check", action="store_true", help="only check the arguments and the imports; print nothing")
    a = p.parse_args(argv)
    try:
        a.shape = tuple(int(v) for v in a.input.lower().split("x"))
    except ValueError:
        a.shape = ()
    if len(a.shape) != 3 or min(a.shape) <= 0:
        raise PeerError("--input must be CxHxW with positive sizes, got '%s'" % a.input)
    for name in ("batch", "classes", "steps", "threads", "block"):
        if getattr(a, name) <= 0:
            raise PeerError("--%s must be > 0, got %d" % (name, getattr(a, name)))
    if a.warmup < 0:
        raise PeerError("--warmup must be >= 0, got %d" % a.warmup)
    names = []
    for s in a.strategies.split(","):
        s = s.strip()
        if s and s not in names:
            names.append(s)
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise PeerError("unknown strategies %s; choose from %s" % (unknown or "(none)", ", ".join(STRATEGIES)))
    a.strategy_list = names
    if a.device != "cpu" and not (a.device == "cuda" or (a.device.startswith("cuda:") and a.device[5:].isdigit())):
        raise PeerError("--device must be cpu, cuda or cuda:N, got '%s'" % a.device)
    return a


def import_torch():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise PeerError("PyTorch cannot be imported by %s (%s): install it with 'apt-get install python3-torch' "
                        "and run this script with Debian's /usr/bin/python3 (dpsgd bench --peer-python)"
                        % (sys.executable, e), 3)
    return torch


def import_opacus(ghost):
    try:
        import opacus
        from opacus import PrivacyEngine  # noqa: F401
    except ImportError as e:
        raise PeerError("Opacus cannot be imported (%s): put an Opacus checkout (v1.4.0 for torch 1.13) and opt_einsum "
                        "on PYTHONPATH; see docs/benchmarks.md, section 'Beside PyTorch and Opacus'" % e, 3)
    if ghost:
        import inspect
        from opacus import PrivacyEngine
        if "criterion" not in inspect.signature(PrivacyEngine.make_private).parameters:
            raise PeerError("opacus-ghost needs Opacus >= 1.5.3 (make_private with criterion and grad_sample_mode='ghost'), "
                            "which needs torch >= 2.0; this is Opacus %s: drop opacus-ghost from --strategies "
                            "(see docs/benchmarks.md)" % opacus.__version__, 3)
    return opacus


# ---------------------------------------------------------------- models (mirror ModelZoo.java)

def build_model(torch, name, shape, classes, stem):
    nn = torch.nn
    c_in, h, w = shape

    def gn(c, default_max):
        return nn.GroupNorm(min(default_max, c), c, eps=EPS)  # ModelZoo.gn: min(defaultMax, C) groups, affine

    def conv(cin, cout, k, stride, pad, bias=False):
        return nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=bias)

    class Residual(nn.Module):
        """ModelZoo's Residual: relu(main(x) + shortcut(x)), torchvision names (conv1, bn1, ..., downsample.0/1)."""

        def __init__(self, cin, width, stride, bottleneck, gn_max):
            super().__init__()
            self.bottleneck = bottleneck
            out = width * 4 if bottleneck else width
            if bottleneck:  # stride on the 3x3 conv (torchvision v1.5)
                self.conv1, self.bn1 = conv(cin, width, 1, 1, 0), gn(width, gn_max)
                self.conv2, self.bn2 = conv(width, width, 3, stride, 1), gn(width, gn_max)
                self.conv3, self.bn3 = conv(width, out, 1, 1, 0), gn(out, gn_max)
            else:
                self.conv1, self.bn1 = conv(cin, width, 3, stride, 1), gn(width, gn_max)
                self.conv2, self.bn2 = conv(width, width, 3, 1, 1), gn(width, gn_max)
            self.relu = nn.ReLU()
            self.downsample = None
            if stride != 1 or cin != out:
                self.downsample = nn.Sequential(conv(cin, out, 1, stride, 0), gn(out, gn_max))

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            if self.bottleneck:
                y = self.relu(self.bn2(self.conv2(y)))
                y = self.bn3(self.conv3(y))
            else:
                y = self.bn2(self.conv2(y))
            return self.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self, blocks, widths, bottleneck, stem_cifar, stem_channels, gn_max):
            super().__init__()
            c = stem_channels
            self.conv1 = conv(c_in, c, 3, 1, 1) if stem_cifar else conv(c_in, c, 7, 2, 3)
            self.bn1 = gn(c, gn_max)
            self.relu = nn.ReLU()
            self.maxpool = nn.Identity() if stem_cifar else nn.MaxPool2d(3, 2, 1)
            cin = c
            for stage, (n, width) in enumerate(zip(blocks, widths)):
                layer = []
                for b in range(n):
                    stride = 2 if stage > 0 and b == 0 else 1
                    layer.append(Residual(cin, width, stride, bottleneck, gn_max))
                    cin = width * 4 if bottleneck else width
                setattr(self, "layer%d" % (stage + 1), nn.Sequential(*layer))
            self.n_stages = len(blocks)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, classes, bias=True)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            for s in range(self.n_stages):
                x = getattr(self, "layer%d" % (s + 1))(x)
            return self.fc(torch.flatten(self.avgpool(x), 1))

    def flat_size(features):
        with torch.no_grad():
            return features(torch.zeros(1, c_in, h, w)).numel()

    from collections import OrderedDict
    if name == "small-cnn":
        # conv 16@3x3 p1 (bias), GN(4), ReLU, max-pool 2, conv 32@3x3 p1 (bias), GN(8), ReLU, max-pool 2, FC
        layers = OrderedDict([
            ("conv1", conv(c_in, 16, 3, 1, 1, bias=True)), ("gn1", gn(16, 4)), ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2, 2, 0)),
            ("conv2", conv(16, 32, 3, 1, 1, bias=True)), ("gn2", gn(32, 8)), ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2, 2, 0)), ("flatten", nn.Flatten())])
        layers["fc"] = nn.Linear(flat_size(nn.Sequential(copy.deepcopy(layers))), classes, bias=True)
        return nn.Sequential(layers)
    if name == "fmnist-cnn":
        # Tramer & Boneh: conv 16@8x8 s2 p2, max-pool 2 s1, conv 32@4x4 s2, max-pool 2 s1, FC 32, FC; tanh; all biased
        layers = OrderedDict([
            ("conv1", conv(c_in, 16, 8, 2, 2, bias=True)), ("tanh1", nn.Tanh()), ("pool1", nn.MaxPool2d(2, 1, 0)),
            ("conv2", conv(16, 32, 4, 2, 0, bias=True)), ("tanh2", nn.Tanh()), ("pool2", nn.MaxPool2d(2, 1, 0)),
            ("flatten", nn.Flatten())])
        layers["fc1"] = nn.Linear(flat_size(nn.Sequential(copy.deepcopy(layers))), 32, bias=True)
        layers["tanh3"] = nn.Tanh()
        layers["fc2"] = nn.Linear(32, classes, bias=True)
        return nn.Sequential(layers)
    cifar = stem == "cifar"
    if name == "resnet18-gn":
        return ResNet([2, 2, 2, 2], [64, 128, 256, 512], False, cifar, 64, 32)
    if name == "resnet34-gn":
        return ResNet([3, 4, 6, 3], [64, 128, 256, 512], False, cifar, 64, 32)
    if name == "resnet50-gn":
        return ResNet([3, 4, 6, 3], [64, 128, 256, 512], True, cifar, 64, 32)
    if name == "wrn16-4":
        # ModelZoo.wideResnet: 3x3/1 stem of 16, GN(min(16, C)), two blocks per stage (always the 3x3/1 stem)
        return ResNet([2, 2, 2], [64, 128, 256], False, True, 16, 16)
    raise PeerError("unknown model " + name)


# ---------------------------------------------------------------- peak memory

def reset_peak():
    """Resets the kernel's resident-set high-water mark (VmHWM), as dpsgd bench does; False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb():
    """Peak resident set in MiB: VmHWM since the last reset_peak() (same measure as dpsgd bench), else
    resource.getrusage's ru_maxrss (the whole process's peak, never reset; KiB on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------- strategies

class Subject:
    """One strategy: its own copy of the model (same initial weights), optimizer and timings."""

    def __init__(self, torch, strategy, base_model, x, y, args):
        import torch.nn.functional as F
        self.torch, self.strategy, self.x, self.y, self.times = torch, strategy, x, y, []
        self.peak_mb = float("nan")
        model = copy.deepcopy(base_model)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = lambda out, target: F.cross_entropy(out, target)  # mean over the batch
        if strategy != "torch-nonprivate":
            from opacus import PrivacyEngine
            from torch.utils.data import DataLoader, TensorDataset
            # The loader only tells Opacus the (fixed) batch size: steps reuse the one fixed batch.
            loader = DataLoader(TensorDataset(x, y), batch_size=x.shape[0])
            engine = PrivacyEngine(accountant="rdp")
            kw = dict(module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=args.sigma,
                      max_grad_norm=args.clip, poisson_sampling=False)
            if strategy == "opacus-ghost":
                model, optimizer, criterion, _ = engine.make_private(
                    criterion=torch.nn.CrossEntropyLoss(), grad_sample_mode="ghost", **kw)
                loss_fn = criterion
            else:
                model, optimizer, _ = engine.make_private(**kw)
        model.train()
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn

    def step(self):
        sync = self.x.is_cuda
        if sync:  # GPU kernels run asynchronously: time from an idle device to an idle device
            self.torch.cuda.synchronize()
        t0 = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        if sync:
            self.torch.cuda.synchronize()
        return (time.perf_counter() - t0) * 1000.0


def run(args):
    # Thread pools are sized when the libraries load: set them before importing torch.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    torch = import_torch()
    needs_opacus = [s for s in args.strategy_list if s.startswith("opacus")]
    opacus = import_opacus("opacus-ghost" in needs_opacus) if needs_opacus else None
    if args.check:
        return None
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    import warnings
    warnings.filterwarnings("ignore")  # Opacus warns about secure_mode and the accountant on every run
    torch.manual_seed(0)
    if args.device != "cpu" and not torch.cuda.is_available():
        raise PeerError("--device %s but this PyTorch (%s) sees no CUDA device" % (args.device, torch.__version__), 3)
    device = torch.device(args.device)
    try:
        base = build_model(torch, args.model, args.shape, args.classes, args.stem)
        g = torch.Generator().manual_seed(42)
        x = torch.rand((args.batch,) + args.shape, generator=g) * 2 - 1  # uniform in [-1, 1), as dpsgd bench
        y = torch.randint(0, args.classes, (args.batch,), generator=g)
        base, x, y = base.to(device), x.to(device), y.to(device)
        with torch.no_grad():
            base(x[:1])
    except RuntimeError as e:
        raise PeerError("model %s does not fit input %s: %s" % (args.model, args.input, str(e).splitlines()[0]))
    n_params = sum(p.numel() for p in base.parameters())

    def say(msg):
        if not args.json:
            print("torch_peer: " + msg, file=sys.stderr, flush=True)

    subjects = []
    for s in args.strategy_list:
        say("warming up " + s)
        reset_peak()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        subject = Subject(torch, s, base, x, y, args)
        for _ in range(max(1, args.warmup)):
            subject.step()
        # On a GPU the peak is the device's allocated-memory high-water mark, not the host's resident set.
        subject.peak_mb = torch.cuda.max_memory_allocated(device) / 1048576.0 if device.type == "cuda" else peak_mb()
        subjects.append(subject)
    say("timing %d steps per strategy in blocks of %d" % (args.steps, min(args.block, args.steps)))
    for start in range(0, args.steps, args.block):
        n = min(args.block, args.steps - start)
        for subject in subjects:
            subject.times.append(sum(subject.step() for _ in range(n)) / n)  # the block's mean step time

    medians = {s.strategy: statistics.median(s.times) for s in subjects}  # median over blocks, as dpsgd bench
    base_ms = medians.get("torch-nonprivate")
    results = []
    for s in subjects:
        m = medians[s.strategy]
        results.append({"strategy": s.strategy, "median_ms": round(m, 2), "examples_per_s": round(args.batch * 1000.0 / m, 2),
                        "ratio": None if base_ms is None else round(m / base_ms, 2), "peak_mb": round(s.peak_mb, 2)})
    versions = {"torch": torch.__version__, "opacus": None if opacus is None else opacus.__version__,
                "python": platform.python_version(), "device": str(device),
                "threads": "%d threads, %d inter-op, OMP_WAIT_POLICY=%s" % (
                    torch.get_num_threads(), torch.get_num_interop_threads(), os.environ.get("OMP_WAIT_POLICY", "unset"))}
    return {"model": args.model, "batch": args.batch, "parameters": n_params, "results": results, "versions": versions}


def print_table(args, out):
    v = out["versions"]
    print("model %s, input %s, batch %d, %s parameters; torch %s, opacus %s, %s" % (
        args.model, args.input, args.batch, format(out["parameters"], ","), v["torch"], v["opacus"], v["threads"]))
    print("%-18s %10s %12s %7s %10s" % ("strategy", "step ms", "examples/s", "ratio", "peak MB"))
    for r in out["results"]:
        print("%-18s %10.1f %12.1f %7s %10.0f" % (r["strategy"], r["median_ms"], r["examples_per_s"],
                                                 "-" if r["ratio"] is None else "%.2f" % r["ratio"], r["peak_mb"]))
    print("medians over blocks of the blocks' mean step times (%d steps per strategy, rotating in blocks of %d) after %d warm-up steps each; "
          "peak MB = resident-set high-water mark (VmHWM) during that strategy's warm-up" % (
              args.steps, min(args.block, args.steps), args.warmup))


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        out = run(args)
    except PeerError as e:
        print("torch_peer: error: %s" % e, file=sys.stderr)
        return e.status
    if out is None:  # --check
        return 0
    if args.json:
        print(json.dumps(out))
    else:
        print_table(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
