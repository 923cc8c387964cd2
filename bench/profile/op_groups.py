#!/usr/bin/env python3
"""Self time per step of op groups (conv, GroupNorm, ReLU, ...) from chrome traces of 3 steps.

usage: python3 bench/profile/op_groups.py trace.json [trace.json ...]
Reads DJL profiler traces (NonPrivateStepProfile) and torch.profiler traces (torch_step_profile.py) alike:
an op's self time is its duration less that of the ops nested in it on the same thread. Prints a
markdown table, one column per trace, in ms per step.
"""
import collections
import json
import sys

STEPS = 3
GROUPS = [
    ("conv forward", ["aten::mkldnn_convolution", "aten::convolution", "aten::_convolution"]),
    ("conv backward", ["aten::convolution_backward"]),
    ("GroupNorm fwd + bwd", ["aten::native_layer_norm", "aten::native_layer_norm_backward", "aten::native_batch_norm",
                             "aten::native_batch_norm_backward", "aten::native_group_norm",
                             "aten::native_group_norm_backward"]),
    ("ReLU fwd + bwd", ["aten::clamp_min", "aten::threshold_backward", "aten::relu"]),
    ("max-pool fwd + bwd", ["aten::max_pool2d_with_indices", "aten::max_pool2d_with_indices_backward"]),
    ("add / add_", ["aten::add", "aten::add_"]),
    ("copy_ / fill_ / empty", ["aten::copy_", "aten::fill_", "aten::empty", "aten::empty_like", "aten::zero_",
                               "aten::zeros"]),
]


def self_times(path):
    events = [e for e in json.load(open(path)) if e.get("ph") == "X"]
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e["tid"]].append(e)
    out = collections.Counter()
    for es in by_thread.values():
        es.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in es:
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"] + 1e-6:
                stack.pop()
            if stack:
                stack[-1][1][0] -= e["dur"]
            rec = [e, [e["dur"]]]
            stack.append(rec)
            e["_self"] = rec[1]
        for e in es:
            out[e["name"]] += e["_self"][0]
    return out


def main(paths):
    data = [self_times(p) for p in paths]
    print("| op (self ms/step) | " + " | ".join(paths) + " |")
    print("|---" * (len(paths) + 1) + "|")
    grouped = set()
    for name, ops in GROUPS:
        grouped.update(ops)
        print("| %s | %s |" % (name, " | ".join("%.1f" % (sum(d[o] for o in ops) / 1000 / STEPS) for d in data)))
    print("| everything else | %s |" % " | ".join(
        "%.1f" % (sum(v for k, v in d.items() if k not in grouped) / 1000 / STEPS) for d in data))
    print("| total | %s |" % " | ".join("%.1f" % (sum(d.values()) / 1000 / STEPS) for d in data))


if __name__ == "__main__":
    main(sys.argv[1:])
