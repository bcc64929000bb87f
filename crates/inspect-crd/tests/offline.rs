//! The binary with `--crd-file`: no cluster involved. Findings are asserted line for line, in
//! the real API server's words (each checked against kube-apiserver v1.32.13 with
//! `kubectl create --dry-run=server --validate=strict`, the CRD's conversion webhook removed).

use assert_cmd::Command;
use predicates::prelude::*;

const CRDS: &str = "tests/data/crds";

fn inspect() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-inspect-crd"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        // Never reach for a real cluster by accident.
        .env("KUBECONFIG", "/nonexistent/kubeconfig");
    cmd
}

/// Validates one file of tests/data/manifests/bad and returns its stdout (exit code 3 asserted).
fn findings(file: &str) -> String {
    let out = inspect()
        .args(["validate", "--crd-file", CRDS, "-f"])
        .arg(format!("tests/data/manifests/bad/{file}"))
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// `expected` holds one finding per line, each without the `FILE:` prefix.
fn assert_finding(file: &str, expected: &str) {
    let prefix = format!("tests/data/manifests/bad/{file}:");
    let expected: String = expected.lines().map(|l| format!("{prefix}{l}\n")).collect();
    assert_eq!(findings(file), expected);
}

#[test]
fn unknown_field_is_reported_at_its_line() {
    assert_finding("unknown-field.yaml", "8: Widget/front: spec.replicaz: unknown field \"spec.replicaz\"");
}

#[test]
fn wrong_type_is_reported() {
    assert_finding(
        "wrong-type.yaml",
        "6: Widget/front: spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\"\n6: Widget/front: .spec.replicas: Invalid value: 0: .spec.replicas accessor error: three is of the type string, expected int64\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn missing_required_field_points_at_its_parent() {
    assert_finding(
        "missing-required.yaml",
        "5: Widget/front: spec.mode: Required value\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn null_in_a_field_that_is_not_nullable_is_dropped_like_the_server_does() {
    assert_finding(
        "not-nullable.yaml",
        "7: Widget/front: spec.mode: Required value\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation\n7: Widget/front: spec.mode: hint: the null is dropped because the field is not nullable",
    );
}

#[test]
fn enum_lists_the_supported_values() {
    assert_finding(
        "enum.yaml",
        "7: Widget/front: spec.mode: Unsupported value: \"Running\": supported values: \"Active\", \"Standby\", \"Paused\"\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn pattern_is_checked() {
    assert_finding(
        "pattern.yaml",
        "8: Widget/front: spec.storageClass: Invalid value: \"Fast_SSD\": spec.storageClass in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
    );
}

#[test]
fn max_length_is_checked() {
    assert_finding(
        "max-length.yaml",
        "8: Widget/front: spec.storageClass: Too long: may not be more than 63 bytes\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn min_length_is_checked() {
    assert_finding(
        "min-length.yaml",
        "8: Widget/front: spec.schedule: Invalid value: \"daily\": spec.schedule in body should be at least 9 chars long",
    );
}

#[test]
fn min_items_is_checked() {
    assert_finding(
        "min-items.yaml",
        "8: Widget/front: spec.tiers: Invalid value: 0: spec.tiers in body should have at least 1 items",
    );
}

#[test]
fn max_properties_is_checked() {
    assert_finding(
        "max-properties.yaml",
        "8: Widget/front: spec.labels: Too many: 9: must have at most 8 items\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn maximum_is_checked() {
    assert_finding(
        "maximum.yaml",
        "6: Widget/front: spec.replicas: Invalid value: 101: spec.replicas in body should be less than or equal to 100",
    );
}

#[test]
fn exclusive_minimum_is_checked() {
    assert_finding(
        "exclusive-minimum.yaml",
        "8: Widget/front: spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
    );
}

#[test]
fn int_or_string_rejects_other_types() {
    assert_finding(
        "int-or-string.yaml",
        "8: Widget/front: spec.maxSurge: Invalid value: \"boolean\": spec.maxSurge in body must be of type integer,string: \"boolean\"\n8: Widget/front: <nil>: Invalid value: \"\": \"spec.maxSurge\" must validate at least one schema (anyOf)\n8: Widget/front: spec.maxSurge: Invalid value: \"boolean\": spec.maxSurge in body must be of type integer: \"boolean\"\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn preserve_unknown_fields_still_checks_the_known_ones() {
    assert_finding(
        "preserve-unknown-fields.yaml",
        "10: Widget/front: spec.config.logLevel: Unsupported value: \"verbose\": supported values: \"debug\", \"info\", \"warn\", \"error\"\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn embedded_resource_needs_apiversion_and_kind() {
    assert_finding(
        "embedded-resource.yaml",
        "8: Widget/front: spec.podTemplate.kind: Required value: must not be empty\n1: Widget/front: <nil>: Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
    );
}

#[test]
fn list_type_set_rejects_duplicates() {
    assert_finding("duplicate-set.yaml", "8: Widget/front: spec.tags[2]: Duplicate value: \"blue\"");
}

#[test]
fn list_type_map_rejects_duplicate_keys() {
    assert_finding(
        "duplicate-map-key.yaml",
        "11: Widget/front: spec.tiers[2]: Duplicate value: map[string]interface {}{\"name\":\"web\"}",
    );
}

#[test]
fn deep_nesting_in_arrays_of_objects_names_the_exact_item() {
    let prefix = "tests/data/manifests/bad/deep-nesting.yaml";
    assert_eq!(
        findings("deep-nesting.yaml"),
        format!(
            "{prefix}:16: Widget/front: spec.tiers[0].routes[0].backends[1].port: Invalid value: 70000: spec.tiers[0].routes[0].backends[1].port in body should be less than or equal to 65535\n\
             {prefix}:18: Widget/front: spec.tiers[0].routes[0].backends[1].headers[0].name: Invalid value: \"X Bad\": spec.tiers[0].routes[0].backends[1].headers[0].name in body should match '^[A-Za-z0-9-]+$'\n"
        )
    );
}

#[test]
fn metadata_name_must_be_a_dns_subdomain() {
    assert_finding(
        "metadata-name.yaml",
        "4: Widget/Front_End: metadata.name: Invalid value: \"Front_End\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
}

#[test]
fn metadata_name_is_required() {
    assert_finding(
        "missing-name.yaml",
        "3: Widget/<unnamed>: metadata.name: Required value: name or generateName is required",
    );
}

#[test]
fn label_values_must_be_strings() {
    assert_finding(
        "label-value.yaml",
        "6: Widget/front: metadata.labels[version]: Invalid value: 2: must be of type string (quote it)",
    );
}

#[test]
fn a_version_that_is_not_served_is_invalid() {
    assert_finding(
        "unserved-version.yaml",
        "1: Widget/old: apiVersion: version \"v1alpha1\" is not served by widgets.example.com (served: v1, v1beta1)",
    );
}

#[test]
fn a_kind_without_crd_is_reported_as_such_not_as_invalid() {
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/bad/no-crd.yaml"])
        .assert()
        .code(3)
        .stdout("tests/data/manifests/bad/no-crd.yaml:1: Gizmo/g1: no CRD for kind Gizmo in group example.com\n")
        .stderr(predicate::str::contains("0 invalid, 1 without CRD"));
    inspect()
        .args(["validate", "--ignore-missing-crds", "--crd-file", CRDS])
        .args(["-f", "tests/data/manifests/bad/no-crd.yaml"])
        .assert()
        .code(0);
}

#[test]
fn a_malformed_manifest_is_an_error_naming_file_and_line() {
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/bad/malformed.yaml"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: tests/data/manifests/bad/malformed.yaml:7:9: mapping values are not allowed in this context\n");
}

#[test]
fn a_malformed_crd_file_is_an_error_naming_file_and_line() {
    inspect()
        .args(["--crd-file", "tests/data/manifests/bad/malformed.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: tests/data/manifests/bad/malformed.yaml:7:"));
}

#[test]
fn valid_manifests_pass_and_core_kinds_are_skipped_once() {
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/widgets-valid.yaml"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "skipped 2 object(s) of built-in kinds (Namespace, Service): not checked against CRDs",
        ))
        .stderr(predicate::str::contains("2 object(s) in 1 file(s): 2 valid, 0 invalid, 0 without CRD"));
}

#[test]
fn cel_rules_are_evaluated_and_transition_rules_counted_offline() {
    // widgets-valid.yaml passes its CEL rules; the transition rule (`oldSelf`) cannot run
    // without the stored object, so it is counted and listed, never passed silently.
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/widgets-valid.yaml"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "2 transition rule(s) not evaluated (they run on update only) (list them with --show-unevaluated)",
        ));
    inspect()
        .args(["validate", "--show-unevaluated", "--crd-file", CRDS])
        .args(["-f", "tests/data/manifests/widgets-valid.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "tests/data/manifests/widgets-valid.yaml:17: Widget/front: spec: transition rule not evaluated (update only): !has(oldSelf.storageClass) || self.storageClass == oldSelf.storageClass (message: storageClass is immutable)\n",
        ));
    // -o wide lists them too.
    inspect()
        .args(["validate", "-o", "wide", "--crd-file", CRDS])
        .args(["-f", "tests/data/manifests/widgets-valid.yaml"])
        .assert()
        .stdout(predicate::str::contains("transition rule not evaluated"));
}

#[test]
fn a_broken_cel_rule_is_reported_as_the_server_words_it() {
    // Checked against kube-apiserver v1.32.13: the same two lines.
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "-"])
        .write_stdin(
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\nspec:\n  replicas: 2\n  mode: Paused\n  tiers:\n  - name: a\n    routes:\n    - path: relative\n",
        )
        .assert()
        .code(3)
        .stdout(
            "<stdin>:4: Widget/x: spec: Invalid value: \"object\": a paused widget must have 0 replicas\n\
             <stdin>:10: Widget/x: spec.tiers[0].routes[0]: Invalid value: \"object\": path must be absolute\n",
        );
}

#[test]
fn a_deprecated_version_warns_but_passes() {
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/widgets-deprecated.yaml"])
        .assert()
        .code(0)
        .stdout(
            "tests/data/manifests/widgets-deprecated.yaml:1: Widget/legacy: apiVersion: warning: example.com/v1beta1 Widget is deprecated; use example.com/v1\n",
        );
}

#[test]
fn validate_reads_stdin_and_directories() {
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "-"])
        .write_stdin("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\nspec: {replicas: 1, mode: Active, tiers: [{name: a}], bogus: 1}\n")
        .assert()
        .code(3)
        .stdout("<stdin>:4: Widget/x: spec.bogus: unknown field \"spec.bogus\"\n");
    inspect()
        .args(["validate", "--crd-file", CRDS, "-f", "tests/data/manifests/bad"])
        .assert()
        // malformed.yaml is in there: an error wins over findings.
        .code(1);
}

#[test]
fn validate_json_output_is_a_list_of_results() {
    let out = inspect()
        .args(["validate", "-o", "json", "--crd-file", CRDS])
        .args(["-f", "tests/data/manifests/bad/enum.yaml"])
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let list: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["verdict"], "invalid");
    assert_eq!(list["items"][0]["findings"][0]["line"], 7);
    assert_eq!(list["items"][0]["findings"][0]["path"], "spec.mode");
}

#[test]
fn list_shows_versions_with_storage_and_deprecation_marks() {
    inspect()
        .args(["--crd-file", CRDS])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "widgets.example.com              example.com            Widget     Namespaced   v1*,v1beta1(deprecated),[v1alpha1]   wd,wdg       True          ",
        ));
    inspect()
        .args(["--crd-file", CRDS, "-o", "wide", "--no-headers"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"widgets\.example\.com .* example,all\s+Webhook\s+-\n").unwrap());
}

#[test]
fn list_name_and_json_outputs() {
    inspect().args(["--crd-file", CRDS, "-o", "name"]).assert().code(0).stdout(
        "customresourcedefinition.apiextensions.k8s.io/candies.awesome.corp.com\n\
             customresourcedefinition.apiextensions.k8s.io/databases.mysql.example.io\n\
             customresourcedefinition.apiextensions.k8s.io/databases.postgres.example.com\n\
             customresourcedefinition.apiextensions.k8s.io/widgets.example.com\n",
    );
    let out = inspect().args(["--crd-file", CRDS, "-o", "json"]).assert().code(0).get_output().stdout.clone();
    let list: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    assert_eq!(list["items"][0]["kind"], "CustomResourceDefinition");
}

#[test]
fn every_name_of_a_crd_describes_it() {
    for name in ["candies.awesome.corp.com", "candies", "candy", "Candy", "cn"] {
        inspect()
            .args(["--crd-file", CRDS, name])
            .assert()
            .code(0)
            .stdout(predicate::str::starts_with("Name:         candies.awesome.corp.com\n"));
    }
}

#[test]
fn describe_shows_versions_conversion_and_stale_stored_versions() {
    let out = inspect().args(["--crd-file", CRDS, "wd"]).assert().code(0).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    for expected in [
        "Short Names:  wd, wdg\n",
        "Categories:   example, all\n",
        "  v1         true     true      false        status, scale (.spec.replicas -> .status.replicas, selector .status.selector)",
        "  v1beta1    true     false     true         status ",
        "  v1alpha1   false    false     false        <none>",
        "  Deprecated v1beta1: example.com/v1beta1 Widget is deprecated; use example.com/v1\n",
        "Stored Versions: v1beta1, v1\n",
        "  Warning: v1beta1 is in status.storedVersions but is not the storage version",
        "Conversion:   Webhook\n",
        "  Service:          widget-system/widget-webhook:9443/convert\n",
        "  Review Versions:  v1, v1beta1\n",
        "  CA Bundle:        set\n",
        "Printer Columns (v1):\n",
        "  Ready      string    .status.conditions[?(@.type==\"Ready\")].status   1\n",
        "  Established     True     InitialNamesAccepted",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn describe_json_prints_the_crd_object() {
    let out = inspect().args(["--crd-file", CRDS, "wd", "-o", "json"]).assert().code(0).get_output().stdout.clone();
    let crd: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(crd["kind"], "CustomResourceDefinition");
    assert_eq!(crd["metadata"]["name"], "widgets.example.com");
    inspect()
        .args(["--crd-file", CRDS, "wd", "-o", "name"])
        .assert()
        .stdout("customresourcedefinition.apiextensions.k8s.io/widgets.example.com\n");
}

#[test]
fn unknown_crd_suggests_the_closest_names() {
    inspect()
        .args(["--crd-file", CRDS, "widgit"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("error: no CustomResourceDefinition named \"widgit\"; did you mean widgets.example.com?\n");
}

#[test]
fn a_shared_short_name_picks_what_kubectl_picks_and_warns_like_it() {
    // kubectl 1.32 on a real kube-apiserver with tests/data/crds/databases.yaml: `kubectl get db`
    // lists databases.mysql.example.io, with this warning; `db.postgres` and `pgdb` list postgres's.
    inspect()
        .args(["--crd-file", CRDS, "db", "-o", "name"])
        .assert()
        .code(0)
        .stdout("customresourcedefinition.apiextensions.k8s.io/databases.mysql.example.io\n")
        .stderr("Warning: short name \"db\" could also match lower priority resource databases.postgres.example.com\n");
    for postgres in ["db.postgres", "pgdb"] {
        inspect()
            .args(["--crd-file", CRDS, postgres, "-o", "name"])
            .assert()
            .code(0)
            .stdout("customresourcedefinition.apiextensions.k8s.io/databases.postgres.example.com\n")
            .stderr("");
    }
}

#[test]
fn unknown_version_lists_the_served_ones() {
    inspect()
        .args(["--crd-file", CRDS, "wd", "--schema", "--version", "v2"])
        .assert()
        .code(1)
        .stderr("error: widgets.example.com has no version \"v2\"; served versions: v1, v1beta1\n");
}

#[test]
fn unknown_field_path_lists_the_fields_that_exist_there() {
    inspect().args(["--crd-file", CRDS, "wd", "--field", "spec.tiers.routs"]).assert().code(1).stderr(
        "error: field \"spec.tiers.routs\" does not exist in Widget v1; fields of spec.tiers: name, routes, weight\n",
    );
}

#[test]
fn schema_tree_shows_types_and_constraints() {
    let out = inspect().args(["--crd-file", CRDS, "wd", "--schema"]).assert().code(0).get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    for expected in [
        "KIND:     Widget\nGROUP:    example.com\nVERSION:  v1 (storage version); also served: v1beta1\n",
        "  spec\t<object> -required-\n      WidgetSpec is the desired state of a Widget.\n",
        "      rule: self.mode != 'Paused' || self.replicas == 0  message: a paused widget must have 0 replicas\n",
        "    maxSurge\t<int-or-string>\n",
        "    config\t<object> preserve-unknown-fields\n",
        "    podTemplate\t<object> preserve-unknown-fields embedded-resource\n",
        "    owner\t<string> nullable\n",
        "    labels\t<map[string]string>\n",
        "        properties: ..8\n        values length: ..63\n",
        "    replicas\t<integer> -required-\n        Number of widget servers.\n        format: int32\n        value: >=0, <=100\n",
        "    ratio\t<number>\n        value: >0, <=1\n",
        "    tiers\t<[]object>\n",
        "        list: map (keys: name)\n",
        "        backends\t<[]object>\n",
        "          port\t<integer> -required-\n",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn schema_of_another_version_and_a_subtree() {
    inspect()
        .args(["--crd-file", CRDS, "widget", "--version", "v1beta1", "--field", "spec.size"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "VERSION:  v1beta1 (deprecated); also served: v1\nWARNING:  example.com/v1beta1 Widget is deprecated; use example.com/v1\nFIELD:    spec.size <integer> -required-\n",
        ));
    let out = inspect()
        .args(["--crd-file", CRDS, "wd", "--field", "spec.mode", "-o", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let schema: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(schema["enum"], serde_json::json!(["Active", "Standby", "Paused"]));
}

#[test]
fn help_documents_exit_codes_and_examples() {
    inspect()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit status:"))
        .stdout(predicate::str::contains("3  validate: at least one object is invalid"));
    inspect()
        .args(["validate", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("FILE:LINE: KIND/NAME: PATH: PROBLEM"));
}

#[test]
fn usage_errors_exit_1() {
    inspect().args(["validate"]).assert().code(1);
    inspect().args(["--bogus"]).assert().code(1);
    inspect()
        .args(["--crd-file", "tests/data/no-such-dir"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("tests/data/no-such-dir"));
}

#[test]
fn no_crd_in_the_files_is_an_error() {
    inspect().args(["--crd-file", "tests/data/manifests/widgets-valid.yaml"]).assert().code(1).stderr(
        "error: no apiextensions.k8s.io/v1 CustomResourceDefinition found in tests/data/manifests/widgets-valid.yaml\n",
    );
}
