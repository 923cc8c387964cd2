package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NoiseFloorTest {
    @Test
    void theNoiseFillsTheIdleCoresFirstThenLengthensTheStep() {
        // 2 cores, a 160 ms non-private step using 240 core-ms: 80 core-ms idle. 233 core-ms of noise on top of the
        // 240 must spread over 2 cores: at least 236.5 ms, 1.478 × the non-private step.
        NoiseFloor f = new NoiseFloor(233, 160, 240, 2);
        assertEquals(80, f.idleCoreMs(), 1e-9);
        assertEquals((240 + 233) / 320.0, f.ratio(), 1e-12);
        assertTrue(f.line().contains("below 1.48 × non-private"), f.line());
    }

    @Test
    void noiseThatFitsInTheIdleCoresSetsNoFloorAboveOne() {
        NoiseFloor f = new NoiseFloor(10, 100, 150, 4); // 250 core-ms idle, 10 of noise
        assertEquals(1.0, f.ratio());
        assertEquals(250, f.idleCoreMs(), 1e-9);
    }

    @Test
    void moreCoresLowerTheFloor() {
        double two = new NoiseFloor(233, 160, 300, 2).ratio();
        double eight = new NoiseFloor(233, 160, 300, 8).ratio();
        assertTrue(two > 1.3 && eight == 1.0, two + " " + eight);
    }
}
