package org.dpsgd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code common}'s public API documented: every public type, constructor and method in the
 * {@link #COVERED_PACKAGES covered packages} has a Javadoc comment, and every package of
 * {@code common/src/main/java} has a {@code package-info.java}.
 *
 * <p>The rule, as a reader of the generated Javadoc sees the API:
 * <ul>
 *   <li>A declaration is API when it is {@code public}, or a member of an interface (implicitly public) that is not
 *       {@code private}, and every type enclosing it is API too. Members of package-private types, of anonymous
 *       classes and of local classes are not API.</li>
 *   <li>The Javadoc must come before the declaration's first token, annotations included (javac attaches a
 *       {@code /** ... *}{@code /} comment only there; one between an annotation and the modifiers is dangling).</li>
 *   <li>Exempt: methods annotated {@code @Override} (Javadoc inherits the overridden method's comment) and the
 *       compact constructors of records (the record's own Javadoc documents its components); enum constants and
 *       fields are not checked.</li>
 * </ul>
 * The scanner blanks comments and string/char literals, then walks the braces: only the text directly inside a
 * type body is read as member declarations, so code in method bodies, lambdas and initialisers cannot confuse it.
 */
class ApiDocsTest {

    /** Packages whose public API must be fully documented; extend as packages are brought up to the rule. */
    static final List<String> COVERED_PACKAGES = List.of(
            "org.dpsgd.accounting",
            "org.dpsgd.audit",
            "org.dpsgd.backend",
            "org.dpsgd.config",
            "org.dpsgd.data",
            "org.dpsgd.model",
            "org.dpsgd.noise",
            "org.dpsgd.optim",
            "org.dpsgd.plan",
            "org.dpsgd.sampling",
            "org.dpsgd.train");

    /**
     * Files of covered packages not yet brought up to the rule (their owners were editing them when the rule was
     * introduced). Remove an entry once its file is documented; {@link #pendingFilesStillNeedIt} fails when an entry
     * is no longer needed, so the list only shrinks.
     */
    static final Set<String> PENDING_FILES = Set.of();

    private static final Path MAIN_SOURCES = locateMainSources();

    @Test
    void everyPackageHasPackageInfo() throws IOException {
        List<String> missing;
        try (Stream<Path> dirs = Files.walk(MAIN_SOURCES)) {
            missing = dirs.filter(Files::isDirectory)
                    .filter(ApiDocsTest::holdsJavaSources)
                    .filter(dir -> !Files.exists(dir.resolve("package-info.java")))
                    .map(dir -> MAIN_SOURCES.relativize(dir).toString().replace('/', '.'))
                    .sorted()
                    .collect(Collectors.toList());
        }
        assertTrue(
                missing.isEmpty(),
                "packages without package-info.java (add one saying what the package is for): " + missing);
    }

    @Test
    void everyPublicDeclarationOfCoveredPackagesHasJavadoc() throws IOException {
        List<String> undocumented = new ArrayList<>();
        for (String pkg : COVERED_PACKAGES) {
            Path dir = MAIN_SOURCES.resolve(pkg.replace('.', '/'));
            assertTrue(Files.isDirectory(dir), "covered package has no sources: " + pkg);
            for (Path file : javaFiles(dir)) {
                if (PENDING_FILES.contains(relative(file))) {
                    continue;
                }
                for (String where : undocumented(Files.readString(file, StandardCharsets.UTF_8))) {
                    undocumented.add(relative(file) + ":" + where);
                }
            }
        }
        assertTrue(
                undocumented.isEmpty(),
                undocumented.size() + " public declarations without Javadoc:\n  " + String.join("\n  ", undocumented));
    }

    @Test
    void pendingFilesStillNeedIt() throws IOException {
        List<String> done = new ArrayList<>();
        for (String file : PENDING_FILES) {
            Path path = MAIN_SOURCES.resolve(file);
            if (Files.exists(path)
                    && undocumented(Files.readString(path, StandardCharsets.UTF_8))
                            .isEmpty()) {
                done.add(file);
            }
        }
        assertTrue(done.isEmpty(), "fully documented now; remove from ApiDocsTest.PENDING_FILES: " + done);
    }

    /** The scanner itself, against declarations whose answer is known. */
    @Test
    void scannerFindsExactlyTheUndocumentedApi() {
        String source = """
                package p;
                /** Doc. */
                public final class A {
                    public static final int FIELD = 1;
                    /** Doc. */
                    public A() { Runnable r = () -> { int x = 0; }; }
                    public void missing(int a) { if (a > 0) { System.out.println("public void fake() {"); } }
                    /** Doc. */
                    @SuppressWarnings({"unchecked", "rawtypes"})
                    public <T> T annotated(T t) { return t; }
                    @Deprecated
                    /** Dangling: after the annotation. */
                    public void dangling() {}
                    @Override
                    public String toString() { return "A"; }
                    void packagePrivate() {}
                    private void hidden() {}
                    // public void commented() {}
                    public int[] arrays = {1, 2};
                    static { System.out.println("x"); }
                    public Object anon = new Object() { public void inAnonymous() {} };
                    public interface Inner {
                        void implicitlyPublic();
                        /** Doc. */
                        default void documentedDefault() {}
                        private void privateHelper() {}
                        class NestedInInterface {}
                    }
                    /** Doc. */
                    public record R(int a, int b) {
                        public R {
                            if (a < 0) throw new IllegalArgumentException("a");
                        }
                        public int sum() { return a + b; }
                    }
                    private static final class Hidden { public void notApi() {} }
                    public enum E { X, Y { public void constantBody() {} }; public void enumMethod() {} }
                    public void record(int x) {}
                }
                class PackagePrivate { public void notApi() {} }
                """;
        List<String> names = undocumented(source).stream()
                .map(where -> where.substring(where.indexOf(' ') + 1))
                .collect(Collectors.toList());
        assertEquals(
                List.of(
                        "method missing",
                        "method dangling",
                        "type Inner",
                        "method implicitlyPublic",
                        "type NestedInInterface",
                        "method sum",
                        "type E",
                        "method enumMethod",
                        "method record"),
                names);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Returns "line kind name" for each API declaration of {@code source} that has no Javadoc. */
    static List<String> undocumented(String source) {
        Blanked blanked = Blanked.of(source);
        String code = blanked.code;
        List<String> found = new ArrayList<>();
        // One frame per open brace; a type body's frame says whether its members are API and whether it is an
        // interface (members implicitly public) or a record (compact constructors).
        Deque<Frame> frames = new ArrayDeque<>();
        frames.push(new Frame(true, true, false, false, ""));
        int headerStart = 0;
        int parens = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '(') {
                parens++;
            } else if (c == ')') {
                parens--;
            } else if (parens == 0 && (c == '{' || c == ';' || c == '}')) {
                Frame frame = frames.peek();
                if (frame.typeBody && c != '}') {
                    Declaration decl = Declaration.parse(code, headerStart, i, frame);
                    Frame opened = new Frame(false, false, false, false, "");
                    if (decl != null) {
                        boolean api = frame.api && decl.isApi(frame);
                        if (api && decl.needsDoc() && !blanked.javadocBetween(headerStart, decl.start)) {
                            found.add(lineOf(code, decl.start) + " " + decl.kind + " " + decl.name);
                        }
                        if (decl.kind.equals("type") && c == '{') {
                            opened = new Frame(true, api, decl.isInterface, decl.isRecord, decl.name);
                        }
                    }
                    if (c == '{') {
                        frames.push(opened);
                    }
                } else if (c == '{') {
                    frames.push(new Frame(false, false, false, false, ""));
                } else if (c == '}') {
                    frames.pop();
                }
                headerStart = i + 1;
            }
        }
        return found;
    }

    private record Frame(boolean typeBody, boolean api, boolean isInterface, boolean isRecord, String typeName) {}

    /** One member header: the code between the previous boundary and the '{' or ';' that ends it. */
    private record Declaration(
            String kind,
            String name,
            int start,
            Set<String> modifiers,
            boolean override,
            boolean isInterface,
            boolean isRecord) {

        private static final Pattern ANNOTATION =
                Pattern.compile("@(?!interface\\b)[\\w.]+\\s*(\\((?:[^()]|\\([^()]*\\))*\\))?");
        private static final Pattern TOKEN = Pattern.compile("@interface|[\\w$]+|[^\\s\\w$]");
        private static final Set<String> MODIFIERS = Set.of(
                "public",
                "protected",
                "private",
                "static",
                "final",
                "abstract",
                "default",
                "synchronized",
                "native",
                "strictfp",
                "transient",
                "volatile",
                "sealed",
                "non-sealed");

        static Declaration parse(String code, int from, int to, Frame frame) {
            String header = code.substring(from, to);
            int firstToken = firstNonSpace(header);
            if (firstToken < 0) {
                return null;
            }
            boolean override = false;
            Matcher annotations = ANNOTATION.matcher(header);
            StringBuilder stripped = new StringBuilder();
            int last = 0;
            while (annotations.find()) {
                String name = annotations.group().replaceAll("\\s*\\(.*", "").trim();
                override |= name.equals("@Override") || name.equals("@java.lang.Override");
                stripped.append(header, last, annotations.start()).append(' ');
                last = annotations.end();
            }
            stripped.append(header.substring(last));
            List<String> tokens = new ArrayList<>();
            Matcher t = TOKEN.matcher(stripped);
            while (t.find()) {
                tokens.add(t.group());
            }
            Set<String> modifiers = new java.util.HashSet<>();
            int k = 0;
            while (k < tokens.size() && MODIFIERS.contains(tokens.get(k))) {
                modifiers.add(tokens.get(k++));
            }
            if (k >= tokens.size()) {
                return null; // e.g. "static" of an initialiser block
            }
            int start = from + firstToken;
            // A type: class/interface/enum/@interface, or the contextual keyword record followed by a name.
            for (int j = k; j < tokens.size() && !tokens.get(j).equals("("); j++) {
                String tok = tokens.get(j);
                boolean record = tok.equals("record")
                        && j + 1 < tokens.size()
                        && tokens.get(j + 1).matches("[A-Za-z_$][\\w$]*");
                if (tok.equals("class")
                        || tok.equals("interface")
                        || tok.equals("enum")
                        || tok.equals("@interface")
                        || record) {
                    if (j + 1 >= tokens.size()) {
                        return null;
                    }
                    boolean isInterface = tok.equals("interface") || tok.equals("@interface");
                    return new Declaration("type", tokens.get(j + 1), start, modifiers, false, isInterface, record);
                }
                if (tok.equals("=")) {
                    return null; // a field's initialiser
                }
            }
            int paren = tokens.indexOf("(");
            if (paren > k && !tokens.subList(k, paren).contains("=")) {
                String name = tokens.get(paren - 1);
                String kind = name.equals(frame.typeName) ? "constructor" : "method";
                return new Declaration(kind, name, start, modifiers, override, false, false);
            }
            // Compact canonical constructor of a record: "[modifiers] Name {".
            if (frame.isRecord && tokens.size() == k + 1 && tokens.get(k).equals(frame.typeName)) {
                return new Declaration("compact-constructor", frame.typeName, start, modifiers, false, false, false);
            }
            return null; // a field or enum constants
        }

        boolean isApi(Frame enclosing) {
            if (modifiers.contains("private")) {
                return false;
            }
            return modifiers.contains("public") || enclosing.isInterface;
        }

        boolean needsDoc() {
            return !override && !kind.equals("compact-constructor");
        }
    }

    /** The source with comments and literals replaced by spaces (same offsets), and where Javadoc comments are. */
    private static final class Blanked {
        final String code;
        final List<int[]> javadocs = new ArrayList<>();

        private Blanked(String code) {
            this.code = code;
        }

        boolean javadocBetween(int from, int to) {
            return javadocs.stream().anyMatch(span -> span[0] >= from && span[1] <= to);
        }

        static Blanked of(String src) {
            StringBuilder out = new StringBuilder(src.length());
            List<int[]> docs = new ArrayList<>();
            int i = 0;
            while (i < src.length()) {
                int end;
                if (src.startsWith("/*", i)) {
                    end = src.indexOf("*/", i + 2);
                    end = end < 0 ? src.length() : end + 2;
                    if (src.startsWith("/**", i) && !src.startsWith("/**/", i)) {
                        docs.add(new int[] {i, end});
                    }
                } else if (src.startsWith("//", i)) {
                    end = src.indexOf('\n', i);
                    end = end < 0 ? src.length() : end;
                } else if (src.startsWith("\"\"\"", i)) {
                    end = src.indexOf("\"\"\"", i + 3);
                    while (end > 0 && src.charAt(end - 1) == '\\') {
                        end = src.indexOf("\"\"\"", end + 1);
                    }
                    end = end < 0 ? src.length() : end + 3;
                } else if (src.charAt(i) == '"' || src.charAt(i) == '\'') {
                    char quote = src.charAt(i);
                    end = i + 1;
                    while (end < src.length() && src.charAt(end) != quote && src.charAt(end) != '\n') {
                        end += src.charAt(end) == '\\' ? 2 : 1;
                    }
                    end = Math.min(end + 1, src.length());
                } else {
                    out.append(src.charAt(i++));
                    continue;
                }
                for (int j = i; j < end; j++) {
                    out.append(src.charAt(j) == '\n' ? '\n' : ' ');
                }
                i = end;
            }
            Blanked blanked = new Blanked(out.toString());
            blanked.javadocs.addAll(docs);
            return blanked;
        }
    }

    private static int firstNonSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static int lineOf(String code, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (code.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }

    private static boolean holdsJavaSources(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.toString().endsWith(".java"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir, e);
        }
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.getFileName().toString().equals("package-info.java"))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    private static String relative(Path file) {
        return MAIN_SOURCES.relativize(file).toString().replace('\\', '/');
    }

    /** Surefire runs in the module directory; an IDE may run from the repository root. */
    private static Path locateMainSources() {
        for (Path candidate : List.of(Path.of("src/main/java"), Path.of("common/src/main/java"))) {
            if (Files.isDirectory(candidate.resolve("org/dpsgd"))) {
                return candidate.toAbsolutePath();
            }
        }
        throw new IllegalStateException(
                "cannot find common/src/main/java from " + Path.of("").toAbsolutePath());
    }
}
