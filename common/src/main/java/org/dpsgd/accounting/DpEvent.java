package org.dpsgd.accounting;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * A privacy-relevant event, as an immutable value (after Google's dp_accounting). Accountants
 * compose these; the ledger of a run is the list of events it composed, serialised in checkpoints.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = DpEvent.Gaussian.class, name = "gaussian"),
    @JsonSubTypes.Type(value = DpEvent.PoissonSampled.class, name = "poisson_sampled"),
    @JsonSubTypes.Type(value = DpEvent.SelfComposed.class, name = "self_composed"),
    @JsonSubTypes.Type(value = DpEvent.Composed.class, name = "composed")
})
public sealed interface DpEvent {

    /** The Gaussian mechanism with sensitivity 1 and noise std {@code noiseMultiplier}. */
    record Gaussian(double noiseMultiplier) implements DpEvent {
        public Gaussian {
            if (!(noiseMultiplier > 0))
                throw new IllegalArgumentException("noise multiplier must be > 0, got " + noiseMultiplier);
        }
    }

    /** {@code event} applied to a Poisson subsample where each record is included with probability q. */
    record PoissonSampled(double samplingRate, DpEvent event) implements DpEvent {
        public PoissonSampled {
            if (!(samplingRate > 0 && samplingRate <= 1)) {
                throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + samplingRate);
            }
        }
    }

    /** {@code event} composed with itself {@code count} times. */
    record SelfComposed(DpEvent event, long count) implements DpEvent {
        public SelfComposed {
            if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
    }

    /** The events of {@code events} applied one after another (their costs add up); the list is copied. */
    record Composed(List<DpEvent> events) implements DpEvent {
        public Composed {
            events = List.copyOf(events);
        }
    }

    /** One DP-SGD step: the Poisson-sampled Gaussian. */
    static DpEvent dpSgdStep(double samplingRate, double noiseMultiplier) {
        return new PoissonSampled(samplingRate, new Gaussian(noiseMultiplier));
    }
}
