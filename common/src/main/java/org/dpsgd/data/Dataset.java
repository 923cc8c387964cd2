package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * A labelled image dataset with random access. Pixels come out as floats, already normalised the
 * way the dataset's reader documents (e.g. per-channel mean/std). Implementations must be safe for
 * concurrent {@link #read} calls from loader threads.
 */
public interface Dataset {
    /** Number of examples N (the dataset size the accountant uses for training data). */
    int size();

    /** Shape [C, H, W] of every example. */
    Shape shape();

    /** Number of classes; every label is in [0, numClasses). */
    int numClasses();

    /** Class label of example {@code index}, in [0, numClasses). */
    int label(int index);

    /** Writes example {@code index} ([C, H, W] row-major) into {@code dst} at {@code offset}. */
    void read(int index, float[] dst, int offset);

    /** Human-readable origin for provenance and errors, e.g. the file path. */
    default String describe() {
        return getClass().getSimpleName();
    }
}
