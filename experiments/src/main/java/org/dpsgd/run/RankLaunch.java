package org.dpsgd.run;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.dpsgd.distributed.Communicator;

/**
 * What rank 0 tells the other ranks before the first step of a data-parallel run: the resolved config,
 * σ (as calibrated or resumed) and the checkpoint it continues from (empty for a fresh run). The other
 * ranks need no run folder or shared file system: only their data.
 */
record RankLaunch(String configYaml, double sigma, byte[] checkpoint) {
    /** What rank 0 sends when the run needs no step (resuming a finished run): the other ranks return at once. */
    static final RankLaunch NOTHING_TO_DO = new RankLaunch("", Double.NaN, new byte[0]);

    /** Whether this is {@link #NOTHING_TO_DO} (no config: a real launch always has one). */
    boolean nothingToDo() {
        return configYaml.isEmpty();
    }

    /** Collective: rank 0 passes its launch, the others pass null; every rank returns rank 0's. */
    static RankLaunch exchange(Communicator comm, RankLaunch onRoot) {
        boolean root = comm.rank() == 0;
        byte[] yaml = comm.broadcastFromRoot(root ? onRoot.configYaml.getBytes(StandardCharsets.UTF_8) : null);
        byte[] sigma = comm.broadcastFromRoot(
                root ? ByteBuffer.allocate(8).putDouble(onRoot.sigma).array() : null);
        byte[] checkpoint = comm.broadcastFromRoot(root ? onRoot.checkpoint : null);
        return new RankLaunch(
                new String(yaml, StandardCharsets.UTF_8), ByteBuffer.wrap(sigma).getDouble(), checkpoint);
    }
}
