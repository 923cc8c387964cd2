package org.dpsgd.audit;

import java.util.ArrayList;
import java.util.List;

/**
 * How the auditor turns canary scores into guesses: IN for the k₊ highest scores, OUT for the k₋
 * lowest, abstain on the rest. Steinke, Nasr &amp; Jagielski's theorem holds for k₊, k₋ fixed
 * before the scores are seen ({@link Fixed}); choosing them on the same run after looking needs a
 * correction, here a union bound over a list of candidates declared in advance ({@link Bonferroni}:
 * each candidate is tested at significance (1 − confidence)/n and the best is reported).
 */
public sealed interface GuessRule {

    /** The (k₊, k₋) pairs this rule may pick from. */
    List<Fixed> candidates();

    /** Fixed before looking: guess IN for the top {@code kPlus}, OUT for the bottom {@code kMinus}. */
    record Fixed(int kPlus, int kMinus) implements GuessRule {
        public Fixed {
            if (kPlus < 0 || kMinus < 0 || kPlus + kMinus == 0) {
                throw new IllegalArgumentException(
                        "k₊ and k₋ must be >= 0 with at least one guess, got k₊=" + kPlus + ", k₋=" + kMinus);
            }
        }

        /** r = k₊ + k₋. */
        public int guesses() {
            return kPlus + kMinus;
        }

        @Override
        public List<Fixed> candidates() {
            return List.of(this);
        }
    }

    /** The best of several fixed rules, each at significance (1 − confidence)/n (union bound: valid though chosen after looking). */
    record Bonferroni(List<Fixed> candidates) implements GuessRule {
        public Bonferroni {
            if (candidates == null || candidates.isEmpty())
                throw new IllegalArgumentException("a Bonferroni guess rule needs at least one (k₊, k₋) candidate");
            candidates = List.copyOf(candidates);
        }
    }

    /**
     * The default for m canaries: symmetric guesses k₊ = k₋ = r/2 for r = 2%, 5%, 10%, 20%, 50% and
     * 90% of m (at least 2), Bonferroni-corrected over these six. Few confident guesses win for an
     * honest run; r = 0.9·m wins when the canaries are perfectly separated (not r = m: k₊ = k₋ = m/2
     * is all right only if exactly half the coins came up IN, while 0.45·m of each side almost always exist).
     */
    static GuessRule defaultFor(int m) {
        if (m < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + m);
        List<Fixed> c = new ArrayList<>();
        for (double f : new double[] {0.02, 0.05, 0.1, 0.2, 0.5, 0.9}) {
            int half = Math.max(1, (int) Math.floor(m * f / 2));
            Fixed k = new Fixed(half, half);
            if (!c.contains(k)) c.add(k);
        }
        return new Bonferroni(c);
    }
}
