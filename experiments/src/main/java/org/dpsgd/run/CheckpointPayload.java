package org.dpsgd.run;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.dpsgd.UserError;
import org.dpsgd.train.TrainerState;

/**
 * What a checkpoint file carries: the trainer's state (parameters, optimizer, EMA, ledger, seeded
 * sampler/noise positions, step) plus the run's own counters so throughput and time continue.
 */
public record CheckpointPayload(
        @JsonProperty("trainer") TrainerState trainer,
        @JsonProperty("train_seconds") double trainSeconds,
        @JsonProperty("examples") long examples) {

    public byte[] encode() {
        try {
            return Json.CHECKPOINT.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise the checkpoint: " + e.getMessage(), e);
        }
    }

    public static CheckpointPayload decode(byte[] bytes, String source) {
        try {
            return Json.CHECKPOINT.readValue(bytes, CheckpointPayload.class);
        } catch (IOException e) {
            throw new UserError(
                    "checkpoint " + source + " passed its checksum but does not decode (written by another version?): "
                            + e.getMessage(),
                    e);
        }
    }
}
