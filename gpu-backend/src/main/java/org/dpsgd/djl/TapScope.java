package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs one piece of a book-keeping tap's work in its own NDScope, so that the float64 casts, the
 * unfolded input and every temporary it creates are freed when it returns instead of at the end
 * of the step (holding them for every layer at once doubled the step's peak memory, issue 12 §3).
 * The arrays the piece returns move to the enclosing scope. They must be arrays made during the
 * step (results, casts or views of activations and gradients), never a parameter or a constant:
 * those live outside every scope and would be closed with the step.
 */
final class TapScope {
    private TapScope() {}

    /** Runs {@code body}; closes everything it created except the arrays {@code kept} then lists. */
    static void run(Runnable body, Supplier<List<NDArray>> kept) {
        List<NDArray> keep;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            body.run();
            keep = new ArrayList<>(kept.get());
            for (NDArray a : keep) NDScope.unregister(a);
        }
        for (NDArray a : keep) NDScope.register(a);
    }

    /** Computes one array in its own scope; every temporary of the computation is closed on return. */
    static NDArray one(Supplier<NDArray> body) {
        NDArray[] out = new NDArray[1];
        run(() -> out[0] = body.get(), () -> List.of(out[0]));
        return out[0];
    }
}
