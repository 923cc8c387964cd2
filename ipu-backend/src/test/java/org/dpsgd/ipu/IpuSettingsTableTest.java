package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.backend.SettingSpec;
import org.junit.jupiter.api.Test;

/** The declared settings table and the keys IpuSettings actually parses stay one list. */
class IpuSettingsTableTest {
    @Test
    void theDeclaredTablePlusTheCommonKeysAreExactlyTheKeysIpuSettingsParses() {
        Set<String> declared = BackendSettings.table(new IpuBackendProvider()).stream()
                .map(SettingSpec::key)
                .collect(Collectors.toSet());
        assertEquals(IpuSettings.KEYS, declared);
    }

    @Test
    void theDeclaredDefaultsAreValidAndParseToIpuSettingsDefaults() {
        Map<String, String> defaults = new LinkedHashMap<>();
        for (SettingSpec s : BackendSettings.table(new IpuBackendProvider())) {
            assertNull(s.problem(s.defaultValue()), s.key() + " default '" + s.defaultValue() + "'");
            defaults.put(s.key(), s.defaultValue());
        }
        assertEquals(IpuSettings.defaults(), IpuSettings.parse(defaults));
    }
}
