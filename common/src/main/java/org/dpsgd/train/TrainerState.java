package org.dpsgd.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.optim.OptimizerState;
import org.dpsgd.sampling.SamplerState;

/**
 * Everything a resumed run needs, as a plain Jackson-serialisable value. It never contains a
 * secure key: with secure randomness {@code sampler} and {@code noiseCalls} are null and the resumed
 * run re-keys from the DRBG.
 *
 * @param step logical steps taken
 * @param parameters flat parameters
 * @param optimizer optimizer state
 * @param ema EMA parameters, null when EMA is off
 * @param ledger the privacy events composed so far
 * @param sampler seeded sampler state, null for secure sampling
 * @param noiseCalls seeded noise position, null for secure noise
 * @param noiseMultiplier σ the run uses
 * @param samplingRate q the run uses
 */
public record TrainerState(
        @JsonProperty("step") long step,
        @JsonProperty("parameters") float[] parameters,
        @JsonProperty("optimizer") OptimizerState optimizer,
        @JsonProperty("ema") float[] ema,
        @JsonProperty("ledger") List<DpEvent> ledger,
        @JsonProperty("sampler") SamplerState sampler,
        @JsonProperty("noise_calls") Long noiseCalls,
        @JsonProperty("noise_multiplier") double noiseMultiplier,
        @JsonProperty("sampling_rate") double samplingRate) {
    public TrainerState {
        ledger = ledger == null ? List.of() : List.copyOf(ledger);
    }
}
