package org.dpsgd.djl;

/**
 * The choices a {@link LayerRule} makes between equivalent ways of computing the same per-sample
 * norms and clipped sums. {@link #DEFAULT} is the production heuristic; tests force each path so
 * that a path no model takes is still compared with the batch-size-1 loop. Every path gives the
 * same result up to float64 rounding, covered by {@link ClipBound}: the choice is about speed and
 * memory only, never about privacy.
 *
 * @param norm how conv and linear weights' per-sample squared norms are taken
 * @param unfold how a convolution's input is unfolded (im2col)
 */
record RuleOptions(Norm norm, Unfold unfold) {
    /** Bu et al.'s mixed rule and the measured unfold heuristic. */
    static final RuleOptions DEFAULT = new RuleOptions(Norm.MIXED, Unfold.AUTO);

    RuleOptions {
        if (norm == null || unfold == null) throw new IllegalArgumentException("rule options must not be null");
    }

    /** Ghost norm ⟨aaᵀ, ggᵀ⟩ (the gradient never formed) versus the explicit per-sample gradient gᵀa. */
    enum Norm {
        /**
         * Conv: ghost when 2T'² ≤ p·d (Bu et al.; 4T'² ≤ p·d where the explicit gradient is formed in float32, see
         * {@link Conv2dRule#useGhost}), explicit otherwise and always with weight standardisation; linear: ghost.
         */
        MIXED,
        /** Always the ghost norm (refused for weight-standardised convs, whose Jacobian is not of the form gᵀa). */
        GHOST,
        /** Always form the per-sample gradient. */
        EXPLICIT
    }

    /** How {@link Conv2dRule} builds the unfolded input [N, T, d]. */
    enum Unfold {
        /**
         * RESHAPE for 1x1 kernels with stride 1 and no padding, ONE_HOT when in·d ≤ 1024, SLICES otherwise; where
         * a float32 or 16-bit model forms the per-sample gradient explicitly, other kernels take STRIDED's fused
         * call for that formation instead; small ones form, cast and take their norms in one call
         * ({@link Conv2dRule#oneCall}).
         */
        AUTO,
        /** A reshape and transpose; only for 1x1 kernels with stride 1 and no padding. */
        RESHAPE,
        /** One convolution with a fixed one-hot kernel; columns in weight order (c, kh, kw). */
        ONE_HOT,
        /** k² strided slices of the padded NHWC input; columns in (kh, kw, c) order. */
        SLICES,
        /**
         * One strided view of the padded input, copied once, in one native call ({@link NativeConvUnfold}); columns in
         * weight order. The explicit float32 formation fuses it with its batched matmul.
         */
        STRIDED,
        /**
         * AUTO's unfold, but every small explicit float32 formation ({@link Conv2dRule#oneCall}) takes the grouped
         * convolution's weight gradient ({@link NativeConvUnfold#formedGradients}), whatever its channels.
         */
        GROUPED
    }

    /** These options with {@code n} as the norm choice. */
    RuleOptions with(Norm n) {
        return new RuleOptions(n, unfold);
    }

    /** These options with {@code u} as the unfold choice. */
    RuleOptions with(Unfold u) {
        return new RuleOptions(norm, u);
    }
}
