package org.dpsgd.optim;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * An optimizer's state for checkpoints.
 *
 * @param name sgd, adam or adamw
 * @param steps optimizer steps taken (Adam's bias correction; SGD's first-step momentum rule)
 * @param buffers named per-coordinate buffers (SGD: momentum; Adam: exp_avg, exp_avg_sq)
 */
public record OptimizerState(
        @JsonProperty("name") String name,
        @JsonProperty("steps") long steps,
        @JsonProperty("buffers") Map<String, float[]> buffers) {
    public OptimizerState {
        buffers = Map.copyOf(buffers);
    }
}
