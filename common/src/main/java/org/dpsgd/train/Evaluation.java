package org.dpsgd.train;

import org.dpsgd.backend.BatchStats;

/**
 * Test-set results of the current parameters and, when EMA is on, of the EMA parameters.
 *
 * @param ema null when EMA is off
 */
public record Evaluation(BatchStats model, BatchStats ema) {}
