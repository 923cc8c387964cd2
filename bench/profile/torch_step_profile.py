#!/usr/bin/env python3
"""torch.profiler trace of the peer's non-private step, the counterpart of NonPrivateStepProfile.

usage: /usr/bin/python3 bench/profile/torch_step_profile.py MODEL CxHxW BATCH STEPS [trace.json]
Builds MODEL exactly as bench/peers/torch_peer.py does (2 intra-op threads, 1 inter-op, OMP_WAIT_POLICY
PASSIVE unless set), times STEPS steps of zero_grad, forward, mean cross-entropy, backward, SGD.step after 3
warm-up steps, then profiles 3 more: a chrome trace to trace.json, else a table of self CPU times.
Aggregate either side's trace with bench/profile/op_groups.py.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch_peer  # noqa: E402

torch.set_num_threads(2)
torch.set_num_interop_threads(1)
model_name, shape, batch, steps = sys.argv[1], tuple(int(v) for v in sys.argv[2].split("x")), int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
m = torch_peer.build_model(torch, model_name, shape, 10, "imagenet")
g = torch.Generator().manual_seed(42)
x = torch.rand((batch,) + shape, generator=g) * 2 - 1
y = torch.randint(0, 10, (batch,), generator=g)
opt = torch.optim.SGD(m.parameters(), lr=0.01)


def step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(m(x), y).backward()
    opt.step()


print("torch %s, mkldnn %s, %d threads, %d inter-op, OMP_WAIT_POLICY=%s" % (
    torch.__version__, torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
    torch.get_num_threads(), torch.get_num_interop_threads(), os.environ.get("OMP_WAIT_POLICY")))
for _ in range(3):
    step()
ts = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    ts.append((time.perf_counter() - t0) * 1000)
print("step median %.1f ms [%.1f, %.1f]" % (statistics.median(ts), min(ts), max(ts)))
from torch.profiler import ProfilerActivity, profile  # noqa: E402

with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(3):
        step()
if len(sys.argv) > 5:
    prof.export_chrome_trace(sys.argv[5])
else:
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40))
