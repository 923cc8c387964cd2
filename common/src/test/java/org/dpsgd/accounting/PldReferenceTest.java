package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The PLD accountant against dp_accounting's PLDAccountant at the same discretisation (1e-4). */
class PldReferenceTest {

    static Stream<ReferenceTables.Row> rows() {
        return ReferenceTables.read("reference_pld.csv").stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void matchesDpAccountingWithinTwoPercent(ReferenceTables.Row row) {
        double ours =
                Accountants.epsilon(row.d("q"), row.d("sigma"), row.l("steps"), row.d("delta"), AccountantKind.PLD);
        double theirs = row.d("epsilon");
        assertEquals(theirs, ours, 0.02 * theirs, row.toString());
    }
}
