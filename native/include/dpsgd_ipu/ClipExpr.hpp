// The element-wise arithmetic of per-sample clipping, written once as templates over an expression
// "dialect" X so that the same code builds the Poplar graph (X = PopopsDialect in IpuSession.cpp,
// popops::expr trees) and a host evaluator (native/test/native_tests.cpp), where NaN/Inf, masking,
// loss scaling, per-group bounds and the rounding margin are unit-tested without the SDK.
//
// A dialect provides: p(i) (placeholder _i), c(float), sqrt, min, max, isFinite, select(a, b, cond)
// (cond ? a : b), toFloat (cast to fp32), and the operators * / > <= != && || on its expressions.
#pragma once

namespace dpsgd::ipu::clip {

/**
 * The relative margin by which every clip factor is shrunk: the norms are fp32 reductions whose
 * rounding (at most (n + 8) * 2^-24 relative for sequential chains of n terms; PopLibs reduces at most
 * a tile's share of a tensor in one chain) could make a computed norm a little smaller than the true
 * one. 2^-10 covers chains of up to 32,000 elements, which IpuMemoryPlanner checks (parameters per tile).
 */
constexpr float kMargin = 1.0f / 1024.0f;

/**
 * Factor by which slot s multiplies the (loss-scaled) gradient of parameter tensor t. Inputs:
 * _1 the sum of squares of the loss-scaled gradient over t's clip group, _2 the group's bound C_t,
 * _3 the slot's total sum of squares (all groups), _4 the slot's mask (1 real, 0 padding).
 * min(1, C_t / ||g_group||) * (1 - margin) / S, where ||g_group|| = sqrt(_1) / S; exactly 0 for a
 * padding slot and for a slot whose norm is not finite (NaN/Inf anywhere in its gradient): selection,
 * never multiplication, so a NaN cannot survive into the sum.
 */
template <class X> auto factor(const X &x, float lossScale) {
  const float invScale = 1.0f / lossScale;
  auto groupNorm = x.sqrt(x.p(1)) * x.c(invScale);
  auto raw = x.min(x.c(1.0f), x.p(2) / x.max(groupNorm, x.c(1e-30f)));
  auto keep = x.isFinite(x.p(3)) && (x.p(4) > x.c(0.0f));
  return x.select(raw * x.c((1.0f - kMargin) * invScale), x.c(0.0f), keep);
}

/** 1 where slot s's group for tensor t was clipped (its norm above C_t), else 0: _1 group sum of squares, _2 C_t. */
template <class X> auto clippedIndicator(const X &x, float lossScale) {
  return x.toFloat(x.sqrt(x.p(1)) * x.c(1.0f / lossScale) > x.p(2));
}

/**
 * The weighted gradient element in fp32: _1 the gradient element (compute type), _2 its tensor's factor.
 * Selection keeps a zero factor's product exactly 0 even when the element is NaN or Inf; the product is
 * formed in fp32, so an fp16 gradient is never rounded again (no fp16 subnormal products).
 */
template <class X> auto weighted(const X &x) {
  return x.select(x.toFloat(x.p(1)) * x.p(2), x.c(0.0f), x.p(2) != x.c(0.0f));
}

/** A masked per-slot metric: _1 value, _2 mask; exactly 0 for padding even if the value is NaN. */
template <class X> auto masked(const X &x, float scale) {
  return x.select(x.p(1) * x.c(scale), x.c(0.0f), x.p(2) > x.c(0.0f));
}

/** 1 for a real slot whose total sum of squares (_1) is not finite, else 0 (_2 the mask). */
template <class X> auto nonFinite(const X &x) {
  return x.select(x.c(0.0f), x.c(1.0f), x.isFinite(x.p(1)) || (x.p(2) <= x.c(0.0f)));
}

/** The slot's norm for the metrics: sqrt(_1) / S, 0 for padding or a non-finite norm (_2 mask). */
template <class X> auto metricNorm(const X &x, float lossScale) {
  return x.select(x.sqrt(x.p(1)) * x.c(1.0f / lossScale), x.c(0.0f), x.isFinite(x.p(1)) && (x.p(2) > x.c(0.0f)));
}

/** The slot's unclipped norm as streamed to the host (perSampleGradientNorms): sqrt(_1) / S, whatever the mask. */
template <class X> auto norm(const X &x, float lossScale) {
  return x.sqrt(x.p(1)) * x.c(1.0f / lossScale);
}

} // namespace dpsgd::ipu::clip
