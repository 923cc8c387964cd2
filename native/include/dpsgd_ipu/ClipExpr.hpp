// The element-wise arithmetic of per-sample clipping, written once as templates over an expression
// "dialect" X so that the same code builds the Poplar graph (X = PopopsDialect in IpuSession.cpp,
// popops::expr trees) and a host evaluator (native/test/native_tests.cpp), where NaN/Inf, masking,
// loss scaling, per-group bounds and the rounding margin are unit-tested without the SDK.
//
// A dialect provides: p(i) (placeholder _i), c(float), sqrt, min, max, isFinite, select(a, b, cond)
// (cond ? a : b), toFloat (cast to fp32), and the operators * / > <= != && || on its expressions.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace dpsgd::ipu::clip {

/**
 * Longest fp32 summation in any norm: every sum of squares is reduced in pieces of at most this many
 * terms (normSplit), a group's sum has at most kMaxTrainableTensors terms, and so does a slot's total.
 * Any summation order of n non-negative terms has relative error at most (n - 1) * 2^-24, whatever
 * PopLibs' reduction strategy, so the computed norms are within (2 * 4096 + 4096) * 2^-25 ~ 3.7e-4 of
 * the true norms of the values summed.
 */
constexpr std::size_t kMaxReductionTerms = 4096;
constexpr std::size_t kMaxTrainableTensors = 4096;

/**
 * The relative margin by which every bound is lowered: factors are min(1, C (1 - margin) / norm). It
 * covers the norm error above (3.7e-4), fp32 rounding of the square root, the division, the factor and
 * each product (a few 2^-24), so that the clipped gradient actually summed never has a norm above its
 * bound (the sensitivity the accountant assumes). Examples below C (1 - margin) are not touched;
 * clipped examples are under-clipped by at most 0.1%. It covers each example's OWN value only: the
 * coupling of examples through the float32 accumulators and GCL's sum is covered by the host, which
 * sends every bound already lowered by mu (ipu-backend AccumulatorMargin.java, docs/ipu.md "The
 * coupling margin").
 */
constexpr float kMargin = 1.0f / 1024.0f;

/**
 * Factor by which slot s multiplies the (loss-scaled) gradient of parameter tensor t. Inputs:
 * _1 the sum of squares of the loss-scaled gradient over t's clip group, _2 the group's bound C_t,
 * _3 the slot's total sum of squares (all groups), _4 the slot's mask (1 real, 0 padding).
 * min(1, C_t (1 - margin) / ||g_group||) / S, where ||g_group|| = sqrt(_1) / S; exactly 0 for a
 * padding slot and for a slot whose norm is not finite (NaN/Inf anywhere in its gradient): selection,
 * never multiplication, so a NaN cannot survive into the sum. C_t = +infinity gives 1 / S (no clipping).
 */
template <class X>
auto factor(const X& x, float lossScale) {
    const float invScale = 1.0f / lossScale;
    auto groupNorm = x.sqrt(x.p(1)) * x.c(invScale);
    auto raw = x.min(x.c(1.0f), x.p(2) * x.c(1.0f - kMargin) / x.max(groupNorm, x.c(1e-30f)));
    auto keep = x.isFinite(x.p(3)) && (x.p(4) > x.c(0.0f));
    return x.select(raw * x.c(invScale), x.c(0.0f), keep);
}

/** 1 where slot s's group for tensor t was clipped (its norm above C_t), else 0: _1 group sum of squares, _2 C_t. */
template <class X>
auto clippedIndicator(const X& x, float lossScale) {
    return x.toFloat(x.sqrt(x.p(1)) * x.c(1.0f / lossScale) > x.p(2));
}

/**
 * The weighted gradient element in fp32: _1 the gradient element (compute type), _2 its tensor's factor.
 * Selection keeps a zero factor's product exactly 0 even when the element is NaN or Inf; the product is
 * formed in fp32, so an fp16 gradient is never rounded again (no fp16 subnormal products).
 */
template <class X>
auto weighted(const X& x) {
    return x.select(x.toFloat(x.p(1)) * x.p(2), x.c(0.0f), x.p(2) != x.c(0.0f));
}

/** A masked per-slot metric: _1 value, _2 mask; exactly 0 for padding even if the value is NaN. */
template <class X>
auto masked(const X& x, float scale) {
    return x.select(x.p(1) * x.c(scale), x.c(0.0f), x.p(2) > x.c(0.0f));
}

/** 1 for a real slot whose total sum of squares (_1) is not finite, else 0 (_2 the mask). */
template <class X>
auto nonFinite(const X& x) {
    return x.select(x.c(0.0f), x.c(1.0f), x.isFinite(x.p(1)) || (x.p(2) <= x.c(0.0f)));
}

/** The slot's norm for the metrics: sqrt(_1) / S, 0 for padding or a non-finite norm (_2 mask). */
template <class X>
auto metricNorm(const X& x, float lossScale) {
    return x.select(x.sqrt(x.p(1)) * x.c(1.0f / lossScale), x.c(0.0f), x.isFinite(x.p(1)) && (x.p(2) > x.c(0.0f)));
}

/**
 * How to reduce a sum of squares of n terms in two bounded pieces: returns c with c | n, c <= maxTerms and
 * n / c <= maxTerms (reduce [n/c][c] over c, then over n/c), the one with the shortest longer piece.
 * Throws std::invalid_argument when n has no such split (a tensor above maxTerms^2 elements or with no
 * suitable divisor); n <= maxTerms returns n (one reduction).
 */
inline std::size_t normSplit(std::size_t n, std::size_t maxTerms = kMaxReductionTerms) {
    if (n <= maxTerms) return n;
    std::size_t best = 0;
    for (std::size_t c = 2; c <= maxTerms; ++c) {
        if (n % c != 0 || n / c > maxTerms) continue;
        const std::size_t longer = c > n / c ? c : n / c;
        const std::size_t bestLonger = best == 0 ? 0 : (best > n / best ? best : n / best);
        if (best == 0 || longer < bestLonger) best = c;
    }
    if (best == 0)
        throw std::invalid_argument("a parameter tensor of " + std::to_string(n) +
                                    " elements cannot be reduced in pieces of at most " + std::to_string(maxTerms) +
                                    " terms, which the clip margin needs");
    return best;
}

/** The slot's unclipped norm as streamed to the host (perSampleGradientNorms): sqrt(_1) / S, whatever the mask. */
template <class X>
auto norm(const X& x, float lossScale) {
    return x.sqrt(x.p(1)) * x.c(1.0f / lossScale);
}

}  // namespace dpsgd::ipu::clip
