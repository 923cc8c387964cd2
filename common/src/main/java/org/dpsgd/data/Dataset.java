package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * A labelled image dataset with random access. Pixels come out as floats, already normalised the
 * way the dataset's reader documents (e.g. per-channel mean/std). Implementations must be safe for
 * concurrent {@link #read} calls from loader threads.
 */
public interface Dataset {
    int size();

    Shape shape();

    int numClasses();

    int label(int index);

    /** Writes example {@code index} ([C, H, W] row-major) into {@code dst} at {@code offset}. */
    void read(int index, float[] dst, int offset);

    /** Human-readable origin for provenance and errors, e.g. the file path. */
    default String describe() {
        return getClass().getSimpleName();
    }
}
