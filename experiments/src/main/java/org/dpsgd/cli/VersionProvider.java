package org.dpsgd.cli;

import picocli.CommandLine;

final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"dpsgd " + (v == null ? "0.1.0-SNAPSHOT" : v), "Java " + System.getProperty("java.version")
        };
    }
}
