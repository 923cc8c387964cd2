package org.dpsgd.model;

final class Checks {
    private Checks() {}

    static void positive(int v, String what) {
        if (v <= 0) throw new IllegalArgumentException(what + " must be > 0, got " + v);
    }
}
