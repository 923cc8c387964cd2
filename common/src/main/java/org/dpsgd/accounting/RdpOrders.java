package org.dpsgd.accounting;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * RDP order grids. The default is dp_accounting's {@code DEFAULT_RDP_ORDERS}
 * (rdp_privacy_accountant.py): 1.1, 1.2, …, 10.9 (step 0.1), then 11, 12, …, 63, then 128, 256,
 * 512, 1024 — 156 orders.
 */
public final class RdpOrders {
    private static final List<Double> DEFAULT = build();

    private RdpOrders() {}

    /** dp_accounting's default grid (156 orders from 1.1 to 1024). */
    public static List<Double> defaults() {
        return DEFAULT;
    }

    /** The integer orders of the default grid (2 … 63, 128, 256, 512, 1024). */
    public static List<Double> integerDefaults() {
        List<Double> out = new ArrayList<>();
        for (double a : DEFAULT) if (RdpSampledGaussian.isInteger(a)) out.add(a);
        return Collections.unmodifiableList(out);
    }

    /** Checks a custom grid: non-empty, every order finite and > 1. */
    public static List<Double> validate(List<Double> orders) {
        if (orders == null || orders.isEmpty())
            throw new IllegalArgumentException("RDP order grid must not be empty; use RdpOrders.defaults()");
        for (Double a : orders) {
            if (a == null || !(a > 1) || Double.isInfinite(a)) {
                throw new IllegalArgumentException("RDP orders must be finite numbers > 1, got " + a);
            }
        }
        return List.copyOf(orders);
    }

    private static List<Double> build() {
        List<Double> out = new ArrayList<>();
        for (int x = 1; x < 100; x++) out.add(1 + x / 10.0);
        for (int a = 11; a < 64; a++) out.add((double) a);
        for (int a : new int[] {128, 256, 512, 1024}) out.add((double) a);
        return Collections.unmodifiableList(out);
    }
}
