package io.pekkollm.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The package structure README's Layout describes, checked on the compiled main classes: no cycles between the
 * top-level packages (a sub-package such as {@code provider.openai} counts as part of its parent), and the layers
 * that must not reach up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PackageStructureTest {
  private JavaClasses main;

  @BeforeAll
  void importMainClasses() {
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.pekkollm");
  }

  @Test
  void topLevelPackagesHaveNoCycles() {
    slices().matching("io.pekkollm.(*)..").should().beFreeOfCycles().check(main);
  }

  @Test
  void valueTypesDependOnNothingElseOfOurs() {
    noClasses().that().resideInAPackage("io.pekkollm.model..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pekkollm.api..", "io.pekkollm.http..",
            "io.pekkollm.provider..", "io.pekkollm.routing..", "io.pekkollm.recovery..", "io.pekkollm.session..",
            "io.pekkollm.cache..", "io.pekkollm.journal..", "io.pekkollm.stream..")
        .check(main);
  }

  @Test
  void providersKnowNothingOfTheGatewayRoutingOrJournal() {
    noClasses().that().resideInAPackage("io.pekkollm.provider..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pekkollm.api..", "io.pekkollm.http..",
            "io.pekkollm.routing..", "io.pekkollm.recovery..", "io.pekkollm.session..", "io.pekkollm.journal..",
            "io.pekkollm.cache..", "io.pekkollm.cli..")
        .check(main);
  }

  @Test
  void onlyTheGatewayAndTheCliUseTheGateway() {
    classes().that().resideInAPackage("io.pekkollm.http..")
        .should().onlyHaveDependentClassesThat().resideInAnyPackage("io.pekkollm.http..", "io.pekkollm.cli..")
        .check(main);
  }
}
