package dev.understudy.job;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * spark-job's packages import downwards only, checked on the compiled classes (ArchUnit), top to
 * bottom:
 *
 * <pre>
 * cli        Main (dispatches every command)
 * workflows  quickstart, bench, experiment (compose jobs)
 * jobs       the other root classes (FederatedJob, EvaluateJob, GenerateJob, ExportJob, ...), pretrain, models
 * run        the committed-run reader and job settings shared by the jobs
 * method     the concrete methods (FedAvg-LoRA, FedPT)
 * data       data preparation (read, assign clients, tokenise)
 * engine     the round engine and its method contract
 * base       config, storage, datasets
 * </pre>
 *
 * A layer may use its own and lower layers only; entry points of one layer (each {@code *Job} or
 * {@code *Command} class of the jobs layer, each workflow package) do not use each other; the
 * packages have no cycle; and every class is in a layer, so a new package must be placed. The
 * rules are also run on a fixture with one violation of each kind ({@code
 * dev.understudy.archfixture}), so they are known to fail when they should.
 */
class PackageLayersTest {
    private static final String ROOT = "dev.understudy.job";
    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        production = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
    }

    @Test
    void layersOnlyImportDownwards() {
        layers(ROOT).check(production);
    }

    @Test
    void entryPointsDoNotCallEachOther() {
        peers(ROOT).check(production);
    }

    @Test
    void packagesHaveNoCycle() {
        cycles(ROOT).check(production);
    }

    @Test
    void everyClassIsInALayer() {
        placed(ROOT).check(production);
        assertThat(production.stream().map(c -> layerOf(ROOT, c)).distinct())
                .contains("cli", "workflows", "jobs", "run", "method", "data", "engine", "base");
    }

    /** The same rules on classes that break each of them once: each check fails, naming the culprit. */
    @Test
    void rulesCatchTheirViolations() {
        String root = "dev.understudy.archfixture";
        JavaClasses fixture = new ClassFileImporter().importPackages(root);
        assertThatThrownBy(() -> layers(root).check(fixture)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(root + ".engine.Loop").hasMessageContaining(root + ".data.Rows");
        assertThatThrownBy(() -> peers(root).check(fixture)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(root + ".EvaluateJob").hasMessageContaining(root + ".FederatedJob");
        assertThatThrownBy(() -> cycles(root).check(fixture)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("engine").hasMessageContaining("data");
        assertThatThrownBy(() -> placed(root).check(fixture)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(root + ".misc.Stray");
    }

    // ---- the rules, for any root package laid out like spark-job ----

    private static final Map<String, List<String>> PACKAGES = new LinkedHashMap<>();

    static {
        PACKAGES.put("workflows", List.of("quickstart", "bench", "experiment"));
        PACKAGES.put("jobs", List.of("pretrain", "models", "report"));
        PACKAGES.put("run", List.of("run"));
        PACKAGES.put("method", List.of("method"));
        PACKAGES.put("data", List.of("data"));
        PACKAGES.put("engine", List.of("engine"));
        PACKAGES.put("base", List.of("config", "storage", "datasets"));
    }

    /** The layer of {@code c}, or null when it is in none (or outside {@code root}). */
    static String layerOf(String root, JavaClass c) {
        String pkg = c.getPackageName();
        if (pkg.equals(root)) {
            return topLevel(c).equals(root + ".Main") ? "cli" : "jobs";
        }
        if (!pkg.startsWith(root + ".")) {
            return null;
        }
        String first = pkg.substring(root.length() + 1).split("\\.")[0];
        for (Map.Entry<String, List<String>> e : PACKAGES.entrySet()) {
            if (e.getValue().contains(first)) {
                return e.getKey();
            }
        }
        return null;
    }

    private static String topLevel(JavaClass c) {
        String n = c.getName();
        int i = n.indexOf('$');
        return i < 0 ? n : n.substring(0, i);
    }

    private static DescribedPredicate<JavaClass> inLayer(String root, String layer) {
        return DescribedPredicate.describe("in layer " + layer, c -> layer.equals(layerOf(root, c)));
    }

    static ArchRule layers(String root) {
        return layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(true)
                .layer("cli").definedBy(inLayer(root, "cli"))
                .layer("workflows").definedBy(inLayer(root, "workflows"))
                .layer("jobs").definedBy(inLayer(root, "jobs"))
                .layer("run").definedBy(inLayer(root, "run"))
                .layer("method").definedBy(inLayer(root, "method"))
                .layer("data").definedBy(inLayer(root, "data"))
                .layer("engine").definedBy(inLayer(root, "engine"))
                .layer("base").definedBy(inLayer(root, "base"))
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("workflows").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("jobs").mayOnlyBeAccessedByLayers("cli", "workflows")
                .whereLayer("run").mayOnlyBeAccessedByLayers("cli", "workflows", "jobs")
                .whereLayer("method").mayOnlyBeAccessedByLayers("cli", "workflows", "jobs", "run")
                .whereLayer("data").mayOnlyBeAccessedByLayers("cli", "workflows", "jobs", "run", "method")
                .whereLayer("engine").mayOnlyBeAccessedByLayers("cli", "workflows", "jobs", "run", "method", "data");
    }

    /**
     * The entry point a class belongs to: its workflow package, or its top-level {@code *Job} /
     * {@code *Command} class in the jobs layer; null for anything else (helpers may be shared).
     */
    static String entryPoint(String root, JavaClass c) {
        String layer = layerOf(root, c);
        if ("workflows".equals(layer)) {
            return "workflows:" + c.getPackageName();
        }
        if ("jobs".equals(layer)) {
            String top = topLevel(c);
            return top.endsWith("Job") || top.endsWith("Command") ? "jobs:" + top : null;
        }
        return null;
    }

    static ArchRule peers(String root) {
        ArchCondition<JavaClass> notPeers = new ArchCondition<>("not use another entry point of their layer") {
            @Override
            public void check(JavaClass item, ConditionEvents events) {
                String self = entryPoint(root, item);
                for (Dependency d : item.getDirectDependenciesFromSelf()) {
                    String other = entryPoint(root, d.getTargetClass());
                    if (self != null && other != null && !other.equals(self)
                            && self.substring(0, self.indexOf(':')).equals(other.substring(0, other.indexOf(':')))) {
                        events.add(SimpleConditionEvent.violated(d, d.getDescription()));
                    }
                }
            }
        };
        return ArchRuleDefinition.classes()
                .that(DescribedPredicate.describe("are entry points", c -> entryPoint(root, c) != null))
                .should(notPeers);
    }

    static ArchRule cycles(String root) {
        return slices().matching(root + ".(*)..").should().beFreeOfCycles();
    }

    static ArchRule placed(String root) {
        return ArchRuleDefinition.classes().that().resideInAPackage(root + "..")
                .should(new ArchCondition<>("be in a layer (add a new package to PackageLayersTest.PACKAGES)") {
                    @Override
                    public void check(JavaClass item, ConditionEvents events) {
                        if (layerOf(root, item) == null) {
                            events.add(SimpleConditionEvent.violated(item, item.getName() + " is in no layer"));
                        }
                    }
                });
    }
}
