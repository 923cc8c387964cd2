#!/usr/bin/env python3
"""Writes the reference tables the accounting tests compare against, computed by Google's
dp_accounting (github.com/google/differential-privacy, python/dp_accounting).

Usage (dp_accounting is not vendored; point PYTHONPATH at a checkout's python/dp_accounting;
it needs numpy, scipy, mpmath, attrs, absl-py):
    PYTHONPATH=/path/to/differential-privacy/python/dp_accounting python3 generate_reference.py

Writes, next to this script:
  reference_rdp.csv          q, sigma, steps, delta, epsilon, order (default grid) and
                             epsilon_int, order_int (integer orders of the default grid only)
  reference_pld.csv          q, sigma, steps, delta, epsilon (PLD, discretisation 1e-4)
  reference_calibration.csv  accountant, target_epsilon, delta, q, steps, sigma
"""
import csv
import os
import sys

import dp_accounting
from dp_accounting import mechanism_calibration
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.rdp import rdp_privacy_accountant

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ORDERS = rdp_privacy_accountant.DEFAULT_RDP_ORDERS
INTEGER_ORDERS = [a for a in DEFAULT_ORDERS if float(a).is_integer()]

RDP_Q = [0.001, 0.004, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0]
RDP_SIGMA = [0.5, 0.8, 1.1, 2.0, 4.0, 10.0]
RDP_STEPS = [1, 10, 100, 1000, 10000, 100000]
RDP_DELTA = [1e-5, 1e-8]

# (q, sigma, steps, delta): realistic DP-SGD settings plus extremes; kept small so the Java test is fast.
PLD_CASES = [
    (0.001, 0.5, 100000, 1e-5),
    (0.001, 1.0, 10000, 1e-5),
    (256 / 60000, 1.1, 14063, 1e-5),
    (0.01, 1.0, 100000, 1e-5),
    (0.01, 4.0, 10000, 1e-5),
    (0.01, 0.8, 1000, 1e-6),
    (0.05, 0.8, 1000, 1e-5),
    (0.1, 2.0, 1000, 1e-5),
    (0.1, 10.0, 100000, 1e-5),
    (0.25, 1.0, 100, 1e-5),
    (0.5, 10.0, 1000, 1e-5),
    (0.5, 2.0, 10, 1e-3),
    (1.0, 1.0, 1, 1e-5),
    (1.0, 5.0, 100, 1e-5),
    (1.0, 10.0, 1000, 1e-6),
    (0.01, 0.5, 1, 1e-5),
    (0.001, 2.0, 1, 1e-5),
    (0.004, 2.0, 50000, 1e-6),
]

# (target_epsilon, delta, q, steps) for calibration round trips.
CALIBRATION_CASES = [
    (1.0, 1e-5, 0.01, 10000),
    (3.0, 1e-5, 256 / 60000, 14063),
    (8.0, 1e-5, 0.001, 100000),
    (0.5, 1e-6, 0.1, 100),
    (2.0, 1e-5, 1.0, 10),
    (10.0, 1e-6, 0.05, 2000),
]
PLD_CALIBRATION_CASES = [
    (1.0, 1e-5, 0.01, 1000),
    (3.0, 1e-5, 256 / 60000, 14063),
    (2.0, 1e-5, 1.0, 10),
]


def step(q, sigma):
    return dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))


def rdp_rows():
    for q in RDP_Q:
        for sigma in RDP_SIGMA:
            for steps in RDP_STEPS:
                event = dp_accounting.SelfComposedDpEvent(step(q, sigma), steps)
                full = rdp_privacy_accountant.RdpAccountant(DEFAULT_ORDERS)
                full.compose(event)
                ints = rdp_privacy_accountant.RdpAccountant(INTEGER_ORDERS)
                ints.compose(event)
                for delta in RDP_DELTA:
                    eps, order = full.get_epsilon_and_optimal_order(delta)
                    eps_int, order_int = ints.get_epsilon_and_optimal_order(delta)
                    yield [q, sigma, steps, delta, repr(float(eps)), repr(float(order)),
                           repr(float(eps_int)), repr(float(order_int))]


def pld_rows():
    for q, sigma, steps, delta in PLD_CASES:
        acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=1e-4)
        acc.compose(step(q, sigma), steps)
        yield [repr(q), sigma, steps, delta, repr(float(acc.get_epsilon(delta)))]


def calibrate(make_accountant, target, delta, q, steps):
    return mechanism_calibration.calibrate_dp_mechanism(
        make_accountant,
        lambda s: dp_accounting.SelfComposedDpEvent(step(q, s), steps),
        target, delta,
        mechanism_calibration.LowerEndpointAndGuess(0.05, 1.0))


def calibration_rows():
    for target, delta, q, steps in CALIBRATION_CASES:
        sigma = calibrate(rdp_privacy_accountant.RdpAccountant, target, delta, q, steps)
        yield ['rdp', target, delta, repr(q), steps, repr(float(sigma))]
    for target, delta, q, steps in PLD_CALIBRATION_CASES:
        sigma = calibrate(pld_privacy_accountant.PLDAccountant, target, delta, q, steps)
        yield ['pld', target, delta, repr(q), steps, repr(float(sigma))]


def write(name, header, rows):
    path = os.path.join(HERE, name)
    with open(path, 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        n = 0
        for row in rows:
            w.writerow(row)
            n += 1
    print(f'wrote {n} rows to {path}', file=sys.stderr)


if __name__ == '__main__':
    write('reference_rdp.csv',
          ['q', 'sigma', 'steps', 'delta', 'epsilon', 'order', 'epsilon_int', 'order_int'], rdp_rows())
    write('reference_pld.csv', ['q', 'sigma', 'steps', 'delta', 'epsilon'], pld_rows())
    write('reference_calibration.csv',
          ['accountant', 'target_epsilon', 'delta', 'q', 'steps', 'sigma'], calibration_rows())
