package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.dpsgd.backend.BackendOptions;
import org.junit.jupiter.api.Test;

/** Thread settings that cannot take effect are refused with the fix, never silently ignored. */
class DjlThreadsTest {
    @Test
    void badValuesAreRefused() {
        TestSupport.backend(); // engine loaded
        assertThrows(
                IllegalArgumentException.class,
                () -> new DjlBackend(new BackendOptions("cpu", Map.of("omp_wait_policy", "BUSY"))));
        assertThrows(
                IllegalArgumentException.class,
                () -> new DjlBackend(new BackendOptions("cpu", Map.of("threads", "0"))));
    }

    @Test
    void waitPolicyDefaultsToPassiveUnlessTheUserChose() {
        assertEquals("PASSIVE", DjlThreads.policyToApply(null, null));
        assertNull(DjlThreads.policyToApply(null, "ACTIVE"), "an exported OMP_WAIT_POLICY is left alone");
        assertEquals("ACTIVE", DjlThreads.policyToApply("active", "PASSIVE"), "the setting wins over the environment");
        assertEquals("DEFAULT", DjlThreads.policyToApply("default", null));
        assertEquals(
                "DEFAULT",
                DjlThreads.policyToApply(null, "Default"),
                "an exported OMP_WAIT_POLICY=default (a word libgomp rejects) removes the variable");
        assertThrows(IllegalArgumentException.class, () -> DjlThreads.policyToApply("spin", null));
        TestSupport.backend();
        assertTrue(
                DjlThreads.describe().contains("OMP_WAIT_POLICY=PASSIVE"),
                DjlThreads.describe()); // surefire exports PASSIVE
    }

    @Test
    void tooLateSettingsAreRefusedWithTheFix() {
        TestSupport.backend();
        String current = System.getenv("OMP_WAIT_POLICY");
        String other = "PASSIVE".equalsIgnoreCase(current) ? "ACTIVE" : "PASSIVE";
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> new DjlBackend(new BackendOptions("cpu", Map.of("omp_wait_policy", other))));
        assertTrue(e.getMessage().contains("export OMP_WAIT_POLICY=" + other), e.getMessage());
        int interop = ai.djl.pytorch.jni.JniUtils.getNumInteropThreads();
        IllegalStateException i = assertThrows(
                IllegalStateException.class,
                () -> new DjlBackend(
                        new BackendOptions("cpu", Map.of("interop_threads", Integer.toString(interop + 1)))));
        assertTrue(i.getMessage().contains("-Dai.djl.pytorch.num_interop_threads="), i.getMessage());
        int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        // the current count is accepted as is; another one is applied or refused with the fix, never ignored
        new DjlBackend(new BackendOptions("cpu", Map.of("threads", Integer.toString(threads)))).close();
        try {
            new DjlBackend(new BackendOptions("cpu", Map.of("threads", Integer.toString(threads + 1)))).close();
            assertTrue(ai.djl.pytorch.jni.JniUtils.getNumThreads() == threads + 1, "threads setting silently ignored");
        } catch (IllegalStateException refused) {
            assertTrue(
                    refused.getMessage().contains("-Dai.djl.pytorch.num_threads=" + (threads + 1)),
                    refused.getMessage());
        } finally {
            // The count is process-wide: left changed, it changed the arithmetic of every later test in this JVM
            // (SlotPositionTest ran at 2 threads after this test, where 6 slots are not bit-invariant).
            if (ai.djl.pytorch.jni.JniUtils.getNumThreads() != threads)
                ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        }
    }
}
