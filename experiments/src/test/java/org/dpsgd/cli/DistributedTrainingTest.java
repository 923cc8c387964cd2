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
        assertEquals(
                Optional.of("an MPI launch (OMPI_COMM_WORLD_SIZE=2)"),
                DistributedTraining.reason(null, Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertEquals(
                Optional.of("an MPI launch (PMI_SIZE=4)"), DistributedTraining.reason("auto", Map.of("PMI_SIZE", "4")));
        assertTrue(DistributedTraining.reason(null, Map.of("PMIX_RANK", "0")).isPresent());
        assertEquals(Optional.of("--distributed mpi"), DistributedTraining.reason("mpi", Map.of()));
    }

    @Test
    void refusesToTrainAloneInsideAMultiRankLaunchAndUnknownModes() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> DistributedTraining.reason("none", Map.of("OMPI_COMM_WORLD_SIZE", "2")));
        assertTrue(e.getMessage().contains("same run folder"), e.getMessage());
        assertEquals(Optional.empty(), DistributedTraining.reason("none", Map.of("OMPI_COMM_WORLD_SIZE", "1")));
        var bad = assertThrows(IllegalArgumentException.class, () -> DistributedTraining.reason("nccl", Map.of()));
        assertTrue(bad.getMessage().contains("auto, none or mpi"), bad.getMessage());
    }

    @Test
    void gpuLocalGivesEachRankOfAHostItsOwnGpu() {
        assertEquals("gpu:3", DistributedTraining.device("gpu:local", Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "3")));
        assertEquals("gpu:1", DistributedTraining.device("gpu:local", Map.of("MPI_LOCALRANKID", "1")));
        assertEquals("gpu:2", DistributedTraining.device("gpu:2", Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "3")));
        assertEquals(null, DistributedTraining.device(null, Map.of()));
        var e = assertThrows(IllegalArgumentException.class, () -> DistributedTraining.device("gpu:local", Map.of()));
        assertTrue(e.getMessage().contains("gpu:N"), e.getMessage());
    }
}
