package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DistributedTrainingTest {
    @Test
    void aPlainLaunchIsOneProcessAndNeedsNoMpi() {
        assertEquals(Optional.empty(), DistributedTraining.reason(null, Map.of("PATH", "/usr/bin")));
        assertEquals(Optional.empty(), DistributedTraining.reason("none", Map.of()));
    }

    @Test
    void mpiLaunchersAreDetectedFromTheirEnvironment() {
        assertEquals(Optional.of("an MPI launch (OMPI_COMM_WORLD_SIZE=2)"), DistributedTraining.reason(null, Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertEquals(Optional.of("an MPI launch (PMI_SIZE=4)"), DistributedTraining.reason("auto", Map.of("PMI_SIZE", "4")));
        assertTrue(DistributedTraining.reason(null, Map.of("PMIX_RANK", "0")).isPresent());
        assertEquals(Optional.of("--distributed mpi"), DistributedTraining.reason("mpi", Map.of()));
    }

    @Test
    void refusesToTrainAloneInsideAMultiRankLaunchAndUnknownModes() {
        var e = assertThrows(IllegalArgumentException.class, () -> DistributedTraining.reason("none", Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(e.getMessage().contains("same run folder"), e.getMessage());
        assertEquals(Optional.empty(), DistributedTraining.reason("none", Map.of("OMPI_COMM_WORLD_SIZE", "1")));
        var bad = assertThrows(IllegalArgumentException.class, () -> DistributedTraining.reason("nccl", Map.of()));
        assertTrue(bad.getMessage().contains("auto, none or mpi"), bad.getMessage());
    }
}
