package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.BatchLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * poprun's environment → this instance, and the native options that make the graph span every
 * instance (so the device returns the whole run's clipped sum and the host must not sum it again).
 */
class PoprunInstanceTest {
    /** What poprun exports to instance {@code i} of a POD64 run as 4 instances x 16 replicas (user guide's names). */
    private static Map<String, String> pod64(int i) {
        Map<String, String> env = new HashMap<>();
        env.put("POPDIST_NUM_TOTAL_REPLICAS", "64");
        env.put("POPDIST_NUM_LOCAL_REPLICAS", "16");
        env.put("POPDIST_REPLICA_INDEX_OFFSET", Integer.toString(16 * i));
        env.put("POPDIST_NUM_IPUS_PER_REPLICA", "1");
        env.put("POPDIST_UNIFORM_REPLICAS_PER_INSTANCE", "1");
        env.put("POPDIST_LOCAL_INSTANCE_INDEX", "0");
        env.put("OMPI_COMM_WORLD_SIZE", "4");
        env.put("OMPI_COMM_WORLD_RANK", Integer.toString(i));
        return env;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3})
    void eachPod64InstanceRunsItsSixteenOfTheSixtyFourReplicas(int i) {
        PoprunInstance p = PoprunInstance.fromEnvironment(pod64(i)).orElseThrow();
        assertEquals(4, p.instances());
        assertEquals(i, p.index());
        assertEquals(16, p.localReplicas());
        assertEquals(64, p.globalReplicas());
        assertEquals(16 * i, p.replicaOffset());

        IpuSettings s = IpuSettings.parse(Map.of("replicas", "16"));
        List<String> opts = s.toNativeOptions(new BatchLayout(1, 8, 16), 1, false, new int[0], p)
                .lines()
                .toList();
        assertTrue(opts.contains("replicas=16"), opts.toString());
        assertTrue(opts.contains("instances=4"), opts.toString());
        assertTrue(opts.contains("instance_index=" + i), opts.toString());
        assertTrue(opts.contains("update=host"), opts.toString());
        assertTrue(new IpuBackend(s, "test", p).device().startsWith("ipu x16 of 64, poprun instance " + i + " of 4"));
    }

    @Test
    void withoutPoprunOrWithOneInstanceTheGraphIsTheInstancesOwn() {
        assertTrue(PoprunInstance.fromEnvironment(Map.of()).isEmpty());
        assertTrue(PoprunInstance.fromEnvironment(Map.of("OMPI_COMM_WORLD_SIZE", "2"))
                .isEmpty());
        Map<String, String> one = pod64(0);
        one.put("POPDIST_NUM_TOTAL_REPLICAS", "16");
        one.put("OMPI_COMM_WORLD_SIZE", "1");
        PoprunInstance p = PoprunInstance.fromEnvironment(one).orElseThrow();
        assertEquals(1, p.instances());
        IpuSettings s = IpuSettings.parse(Map.of("replicas", "16"));
        String opts = s.toNativeOptions(new BatchLayout(1, 8, 16), 1, false, new int[0], p);
        assertFalse(opts.contains("instances="), opts);
        assertEquals(s.toNativeOptions(new BatchLayout(1, 8, 16), 1), opts);
        assertEquals("ipu x16 (test)", new IpuBackend(s, "test", p).device());
    }

    private static String refusal(Map<String, String> env) {
        return assertThrows(IllegalArgumentException.class, () -> PoprunInstance.fromEnvironment(env))
                .getMessage();
    }

    @Test
    void refusesAnEnvironmentItCannotRunOneGraphOver() {
        Map<String, String> partial = pod64(1);
        partial.remove("POPDIST_REPLICA_INDEX_OFFSET");
        assertTrue(refusal(partial).contains("incomplete"));

        Map<String, String> twoIpus = pod64(1);
        twoIpus.put("POPDIST_NUM_IPUS_PER_REPLICA", "2");
        assertTrue(refusal(twoIpus).contains("--ipus-per-replica 1"));

        Map<String, String> uneven = pod64(1);
        uneven.put("POPDIST_UNIFORM_REPLICAS_PER_INSTANCE", "0");
        assertTrue(refusal(uneven).contains("different replica counts"));

        Map<String, String> offset = pod64(1);
        offset.put("POPDIST_REPLICA_INDEX_OFFSET", "8");
        assertTrue(refusal(offset).contains("do not split evenly"));

        Map<String, String> notANumber = pod64(1);
        notANumber.put("POPDIST_NUM_LOCAL_REPLICAS", "sixteen");
        assertTrue(refusal(notANumber).contains("POPDIST_NUM_LOCAL_REPLICAS must be a non-negative integer"));

        // GCL would wait for instances mpirun never started; rank 0 must be instance 0.
        Map<String, String> size = pod64(1);
        size.put("OMPI_COMM_WORLD_SIZE", "2");
        assertTrue(refusal(size).contains("MPI size (OMPI_COMM_WORLD_SIZE=2) is not poprun's instance count 4"));
        Map<String, String> rank = pod64(1);
        rank.put("OMPI_COMM_WORLD_RANK", "3");
        assertTrue(refusal(rank).contains("MPI rank (OMPI_COMM_WORLD_RANK=3) is not poprun's instance index 1"));
    }

    @Test
    void theConfiguredReplicasMustBeTheInstancesShare() {
        PoprunInstance p = PoprunInstance.fromEnvironment(pod64(2)).orElseThrow();
        IpuSettings eight = IpuSettings.parse(Map.of("replicas", "8"));
        String e = assertThrows(
                        IllegalArgumentException.class,
                        () -> eight.toNativeOptions(new BatchLayout(1, 8, 8), 1, false, new int[0], p))
                .getMessage();
        assertTrue(e.contains("backend.settings.replicas is 8 but poprun gives this instance 16"), e);
        IpuSettings sixteen = IpuSettings.parse(Map.of("replicas", "16"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> sixteen.toNativeOptions(new BatchLayout(1, 8, 16), 1, true, new int[0], p))
                .getMessage()
                .contains("IPU Model"));
    }
}
