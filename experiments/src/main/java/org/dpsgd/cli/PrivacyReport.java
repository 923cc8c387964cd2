package org.dpsgd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.Map;

/** Prints a privacy result: one JSON object on one line, or a few lines of text. */
final class PrivacyReport {
    private PrivacyReport() {}

    static void printJson(PrintWriter out, Map<String, Object> fields) {
        try {
            out.println(new ObjectMapper().writeValueAsString(fields));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    static String number(double x) {
        if (Double.isInfinite(x)) return "∞";
        return String.format("%.6g", x);
    }
}
